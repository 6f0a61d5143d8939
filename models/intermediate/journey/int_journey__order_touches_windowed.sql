{#- Every order (POS returns excluded: they are not caused by marketing) with the
    customer's marketing touches (fct_touchpoints.is_marketing_touch: the start of each
    web/app session, e-mail opens and clicks) from var('attribution_lookback_days')
    (default 30) days before the order up to the order time, both ends included.
    An order with no such touch (including orders of unidentified customers) gets one
    pseudo-touch with marketing_channel 'direct/none', so every order's credits still add
    up to its revenue. -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

attributable_orders as (
    select
        order_id,
        customer_id,
        ordered_at,
        channel as order_channel,
        net_revenue_base as order_revenue_base
    from orders
    where not is_return
),

marketing_touches as (
    select
        touchpoint_id,
        customer_id,
        occurred_at as touched_at,
        channel as touch_channel,
        marketing_channel,
        coalesce(utm_campaign, campaign_id) as campaign
    from touchpoints
    where is_marketing_touch and customer_id is not null
),

touches_in_window as (
    select
        attributable_orders.order_id,
        attributable_orders.customer_id,
        attributable_orders.ordered_at,
        attributable_orders.order_channel,
        attributable_orders.order_revenue_base,
        marketing_touches.touchpoint_id,
        false as is_pseudo_touch,
        marketing_touches.touched_at,
        marketing_touches.touch_channel,
        marketing_touches.marketing_channel,
        marketing_touches.campaign
    from attributable_orders
    inner join marketing_touches
        on attributable_orders.customer_id = marketing_touches.customer_id
        and attributable_orders.ordered_at >= marketing_touches.touched_at
        and attributable_orders.ordered_at <= {{ dbt.dateadd(
                'day', var('attribution_lookback_days'), 'marketing_touches.touched_at'
            ) }}
),

orders_with_touch as (
    select distinct order_id from touches_in_window
),

orders_without_touch as (
    select
        attributable_orders.order_id,
        attributable_orders.customer_id,
        attributable_orders.ordered_at,
        attributable_orders.order_channel,
        attributable_orders.order_revenue_base,
        cast(null as {{ dbt.type_string() }}) as touchpoint_id,
        true as is_pseudo_touch,
        cast(null as {{ dbt.type_timestamp() }}) as touched_at,
        cast(null as {{ dbt.type_string() }}) as touch_channel,
        'direct/none' as marketing_channel,
        cast(null as {{ dbt.type_string() }}) as campaign
    from attributable_orders
    left join orders_with_touch
        on attributable_orders.order_id = orders_with_touch.order_id
    where orders_with_touch.order_id is null
),

touches_unioned as (
    select * from touches_in_window
    union all
    select * from orders_without_touch
),

final as (
    select
        *,
        cast(
            row_number() over (partition by order_id order by touched_at, touchpoint_id)
            as {{ dbt.type_int() }}
        ) as touch_position,
        cast(count(*) over (partition by order_id) as {{ dbt.type_int() }}) as touch_count,
        coalesce(
            {{ dbt.datediff('touched_at', 'ordered_at', 'second') }} / 86400.0, 0  -- noqa: LT05
        ) as days_before_order
    from touches_unioned
)

select * from final
