-- Every order except POS returns is attributed, and under each of the six models the
-- credits of an order add up exactly (decimal, no tolerance) to its net revenue.
-- Returns the offending orders.
with

orders as (
    select * from {{ ref('fct_orders') }}
),

attribution as (
    select * from {{ ref('fct_order_attribution') }}
),

credits_per_order as (
    select
        order_id,
        max(order_revenue_base) as order_revenue_base,
        sum(first_touch_credit_base) as first_touch,
        sum(last_touch_credit_base) as last_touch,
        sum(last_non_direct_credit_base) as last_non_direct,
        sum(linear_credit_base) as linear,
        sum(position_based_credit_base) as position_based,
        sum(time_decay_credit_base) as time_decay,
        sum(first_touch_weight) as first_touch_weight_sum,
        count(*) as touch_rows
    from attribution
    group by order_id
),

orders_checked as (
    select
        orders.order_id,
        orders.net_revenue_base,
        credits_per_order.order_revenue_base,
        credits_per_order.first_touch,
        credits_per_order.last_touch,
        credits_per_order.last_non_direct,
        credits_per_order.linear,
        credits_per_order.position_based,
        credits_per_order.time_decay,
        credits_per_order.first_touch_weight_sum
    from orders
    left join credits_per_order on orders.order_id = credits_per_order.order_id
    where not orders.is_return
),

final as (
    select *
    from orders_checked
    where
        order_revenue_base is null
        or order_revenue_base != net_revenue_base
        or first_touch != net_revenue_base
        or last_touch != net_revenue_base
        or last_non_direct != net_revenue_base
        or linear != net_revenue_base
        or position_based != net_revenue_base
        or time_decay != net_revenue_base
        or first_touch_weight_sum != 1
)

select * from final
