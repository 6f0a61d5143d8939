{#- One row per order: web-shop/app orders and in-store POS transactions, with the
    unified customer_id. Revenue in the base currency:
      gross_revenue_base   what was booked (order total; POS amount of a sale, 0 for a return)
      refunded_revenue_base  taken back: a refunded or cancelled shop order's total, or the
                             amount of a POS return (as a positive number)
      net_revenue_base     gross - refunded (0 for refunded/cancelled orders, negative for a
                           POS return, which carries no reference to the sale it reverses)
    is_purchase marks rows that count as a purchase (completed shop order or POS sale); CLV,
    churn and lifecycle stages count those. Orders of further systems (an eighth system:
    staging models in var order_source_models that declare config.meta.orders, in
    fct_orders' shape; macros/marts/order_sources.sql) are unioned in as they are. -#}
{%- set more_orders = order_sources() %}
with

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

pos_transactions as (
    select * from {{ ref('stg_loyalty__pos_transactions') }}
),

order_customers as (
    {{ customer_of_records('shop', 'orders', key_as='order_id') }}
),

pos_customers as (
    {{ customer_of_records('loyalty', 'pos_transactions', key_as='pos_transaction_id') }}
),

shop_orders_revenue as (
    select
        shop_orders.order_id,
        order_customers.customer_id,
        'shop' as source_system,
        shop_orders.ordered_at,
        shop_orders.order_channel as channel,
        cast(null as {{ dbt.type_string() }}) as store_id,
        shop_orders.currency,
        shop_orders.status as order_status,
        shop_orders.order_total as gross_amount,
        shop_orders.order_total_base as gross_revenue_base,
        case
            when shop_orders.is_refunded or shop_orders.is_cancelled
                then shop_orders.order_total_base
            else 0
        end as refunded_revenue_base,
        coalesce(shop_orders.is_refunded, false) as is_refunded,
        coalesce(shop_orders.is_cancelled, false) as is_cancelled,
        false as is_return
    from shop_orders
    left join order_customers
        on shop_orders.order_id = order_customers.order_id
),

pos_revenue as (
    select
        pos_transactions.pos_transaction_id as order_id,
        pos_customers.customer_id,
        'loyalty' as source_system,
        pos_transactions.transacted_at as ordered_at,
        'store' as channel,
        pos_transactions.store_id,
        pos_transactions.currency,
        case when pos_transactions.amount < 0 then 'returned' else 'completed' end
            as order_status,
        pos_transactions.amount as gross_amount,
        case
            when pos_transactions.amount_base < 0 then 0 else pos_transactions.amount_base
        end as gross_revenue_base,
        case
            when pos_transactions.amount_base < 0 then -pos_transactions.amount_base else 0
        end as refunded_revenue_base,
        false as is_refunded,
        false as is_cancelled,
        pos_transactions.amount < 0 as is_return
    from pos_transactions
    left join pos_customers
        on pos_transactions.pos_transaction_id = pos_customers.pos_transaction_id
),

{% for o in more_orders -%}
{{ o.model }}_revenue as (
    select
        declared.order_id,
        declared_customers.customer_id,
        '{{ o.source_system }}' as source_system,
        declared.ordered_at,
        declared.channel,
        declared.store_id,
        declared.currency,
        declared.order_status,
        declared.gross_amount,
        declared.gross_revenue_base,
        declared.refunded_revenue_base,
        coalesce(declared.is_refunded, false) as is_refunded,
        coalesce(declared.is_cancelled, false) as is_cancelled,
        coalesce(declared.is_return, false) as is_return
    from {{ ref(o.model) }} as declared
    left join ({{ customer_of_records(o.source_system, o.source_table, key_as='order_id') }}) as declared_customers
        on declared.order_id = declared_customers.order_id
),

{% endfor -%}
orders_unioned as (
    select * from shop_orders_revenue
    union all
    select * from pos_revenue
    {%- for o in more_orders %}
    union all
    select * from {{ o.model }}_revenue
    {%- endfor %}
),

orders_flagged as (
    select
        *,
        (not is_refunded and not is_cancelled and not is_return) as is_purchase
    from orders_unioned
),

orders_sequenced as (
    select
        *,
        case
            when is_purchase and customer_id is not null
                then row_number() over (
                        partition by customer_id, is_purchase
                        order by ordered_at, order_id
                    )
        end as customer_purchase_number
    from orders_flagged
),

final as (
    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        customer_id is not null as is_identified,
        cast(source_system as {{ dbt.type_string() }}) as source_system,
        cast(ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(ordered_at as date) as order_date,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(order_status as {{ dbt.type_string() }}) as order_status,
        cast(gross_amount as decimal(18, 2)) as gross_amount,
        cast(gross_revenue_base as decimal(18, 2)) as gross_revenue_base,
        cast(refunded_revenue_base as decimal(18, 2)) as refunded_revenue_base,
        cast(gross_revenue_base - refunded_revenue_base as decimal(18, 2)) as net_revenue_base,
        is_purchase,
        is_refunded,
        is_cancelled,
        is_return,
        cast(customer_purchase_number as {{ dbt.type_int() }}) as customer_purchase_number,
        coalesce(customer_purchase_number = 1, false) as is_first_purchase
    from orders_sequenced
)

select * from final
