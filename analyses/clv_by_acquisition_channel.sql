{#- CLV by acquisition channel: how much predicted (CLV) and historical (net revenue)
    value the customers bring, grouped by the marketing channel of their first touch
    (customer_journey.acquisition_channel). Every customer of dim_customer is in exactly
    one channel; customers without a purchase count in `customers` but have no CLV. -#}
with

journeys as (

    select * from {{ ref('analyst__customer_journey') }}

),

clv as (

    select * from {{ ref('analyst__customer_clv') }}

),

customers as (

    select
        journeys.customer_id,
        journeys.acquisition_channel,
        clv.has_purchased,
        clv.clv_base,
        clv.net_revenue_base,
        clv.expected_purchases_365d
    from journeys
    inner join clv on journeys.customer_id = clv.customer_id

),

final as (

    select
        acquisition_channel,
        count(*) as customers,
        sum(case when has_purchased then 1 else 0 end) as buying_customers,
        avg(clv_base) as avg_clv_base,
        sum(clv_base) as total_clv_base,
        avg(case when has_purchased then net_revenue_base end) as avg_net_revenue_per_buyer_base,
        sum(net_revenue_base) as total_net_revenue_base,
        avg(expected_purchases_365d) as avg_expected_purchases_365d,
        sum(clv_base) / sum(sum(clv_base)) over () as share_of_total_clv
    from customers
    group by acquisition_channel

)

select * from final
order by total_clv_base desc
