-- Value ranges of the journey and sales marts. Returns one row per violated check with
-- the number of offending rows.
with

orders as (
    select * from {{ ref('fct_orders') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

journeys as (
    select * from {{ ref('customer_journey') }}
),

attribution as (
    select * from {{ ref('fct_order_attribution') }}
),

violations as (
    select
        'fct_orders: gross or refunded revenue negative' as check_name,
        count(*) as offending_rows
    from orders
    where gross_revenue_base < 0 or refunded_revenue_base < 0
    union all
    select
        'fct_orders: net revenue outside [-refunded, gross]' as check_name,
        count(*) as offending_rows
    from orders
    where net_revenue_base > gross_revenue_base or net_revenue_base < -refunded_revenue_base
    union all
    select
        'fct_sessions: ended before started or empty' as check_name,
        count(*) as offending_rows
    from sessions
    where ended_at < started_at or event_count < 1 or duration_seconds < 0
    union all
    select
        'fct_sessions: event counts do not add up' as check_name,
        count(*) as offending_rows
    from sessions
    where web_event_count + app_event_count != event_count
    union all
    select
        'customer_journey: first purchase before first touch' as check_name,
        count(*) as offending_rows
    from journeys
    where days_to_first_purchase < 0 or first_purchase_at < first_touch_at
    union all
    select
        'customer_journey: purchase counts do not add up' as check_name,
        count(*) as offending_rows
    from journeys
    where online_purchase_count + store_purchase_count != purchase_count
    union all
    select
        'customer_journey: stage contradicts purchases' as check_name,
        count(*) as offending_rows
    from journeys
    where
        (lifecycle_stage = 'prospect' and purchase_count > 0)
        or (lifecycle_stage != 'prospect' and purchase_count = 0)
        or (lifecycle_stage = 'repeat' and purchase_count < 2)
        or (lifecycle_stage = 'first_time_buyer' and purchase_count != 1)
    union all
    select
        'fct_order_attribution: weight outside [0, 1]' as check_name,
        count(*) as offending_rows
    from attribution
    where
        least(
            first_touch_weight, last_touch_weight, last_non_direct_weight,
            linear_weight, position_based_weight, time_decay_weight
        ) < 0
        or greatest(
            first_touch_weight, last_touch_weight, last_non_direct_weight,
            linear_weight, position_based_weight, time_decay_weight
        ) > 1
    union all
    select
        'fct_order_attribution: touch outside the look-back window' as check_name,
        count(*) as offending_rows
    from attribution
    where
        not is_pseudo_touch
        and (
            touched_at > ordered_at
            or days_before_order > {{ var('attribution_lookback_days') }}
        )
    union all
    select
        'fct_order_attribution: credit with the wrong sign' as check_name,
        count(*) as offending_rows
    from attribution
    where
        order_revenue_base >= 0
        and least(
            first_touch_credit_base, last_touch_credit_base, last_non_direct_credit_base,
            linear_credit_base, position_based_credit_base, time_decay_credit_base
        ) < 0
),

final as (
    select * from violations
    where offending_rows > 0
)

select * from final
