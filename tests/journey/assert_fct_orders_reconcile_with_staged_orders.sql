-- fct_orders holds every staged shop order and POS transaction exactly once, and its
-- revenue reconciles with staging: shop gross = sum of order_total_base, shop net = sum of
-- order_total_base of orders neither refunded nor cancelled, POS net = sum of amount_base.
-- Returns one row per source whose counts or sums differ.
with

staged_shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

staged_pos_transactions as (
    select * from {{ ref('stg_loyalty__pos_transactions') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

staged_totals as (
    select
        'shop' as source_system,
        count(*) as order_count,
        sum(order_total_base) as gross_revenue_base,
        sum(
            case
                when coalesce(is_refunded, false) or coalesce(is_cancelled, false) then 0
                else order_total_base
            end
        ) as net_revenue_base
    from staged_shop_orders
    union all
    select
        'loyalty' as source_system,
        count(*) as order_count,
        sum(case when amount_base > 0 then amount_base else 0 end) as gross_revenue_base,
        sum(amount_base) as net_revenue_base
    from staged_pos_transactions
),

mart_totals as (
    select
        source_system,
        count(*) as order_count,
        count(distinct order_id) as distinct_order_count,
        sum(gross_revenue_base) as gross_revenue_base,
        sum(net_revenue_base) as net_revenue_base
    from orders
    group by source_system
),

final as (
    select
        staged_totals.source_system,
        staged_totals.order_count as staged_order_count,
        mart_totals.order_count as mart_order_count,
        mart_totals.distinct_order_count,
        staged_totals.gross_revenue_base as staged_gross,
        mart_totals.gross_revenue_base as mart_gross,
        staged_totals.net_revenue_base as staged_net,
        mart_totals.net_revenue_base as mart_net
    from staged_totals
    left join mart_totals on staged_totals.source_system = mart_totals.source_system
    where
        staged_totals.order_count > 0
        and (
            mart_totals.order_count is null
            or mart_totals.order_count != staged_totals.order_count
            or mart_totals.distinct_order_count != staged_totals.order_count
            or coalesce(mart_totals.gross_revenue_base, 0)
            != coalesce(staged_totals.gross_revenue_base, 0)
            or coalesce(mart_totals.net_revenue_base, 0)
            != coalesce(staged_totals.net_revenue_base, 0)
        )
)

select * from final
