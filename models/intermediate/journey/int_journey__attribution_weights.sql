{#- The share of an order's revenue each touch gets under each attribution model
    (weights of one order sum to 1 under every model):
      first_touch      1 for the earliest touch
      last_touch       1 for the latest touch
      last_non_direct  1 for the latest touch whose marketing channel is not direct
                       (direct, direct/none); the latest touch if all are direct
      linear           1 / n
      position_based   one touch 1; two touches 0.5 / 0.5; three or more 0.4 first,
                       0.4 last, 0.2 shared equally by the touches in between
      time_decay       2^(-days_before_order / half-life), normalised per order
                       (half-life var('attribution_time_decay_half_life_days'), default 7)
    Touches of one order are ordered by time then touchpoint_id (touch_position). -#}
with

touches as (
    select * from {{ ref('int_journey__order_touches_windowed') }}
),

touches_ranked as (
    select
        *,
        coalesce(
            max(
                case
                    when marketing_channel not in ('direct', 'direct/none') then touch_position
                end
            ) over (partition by order_id),
            touch_count
        ) as last_non_direct_position,
        power(
            cast(0.5 as double),
            cast(days_before_order as double)
            / cast({{ var('attribution_time_decay_half_life_days') }} as double)
        ) as decay_factor
    from touches
),

final as (
    select
        order_id,
        touch_position,
        touch_count,
        customer_id,
        ordered_at,
        order_channel,
        order_revenue_base,
        touchpoint_id,
        is_pseudo_touch,
        touched_at,
        touch_channel,
        marketing_channel,
        campaign,
        days_before_order,
        cast(case when touch_position = 1 then 1 else 0 end as double) as first_touch_weight,
        cast(case when touch_position = touch_count then 1 else 0 end as double)
            as last_touch_weight,
        cast(case when touch_position = last_non_direct_position then 1 else 0 end as double)
            as last_non_direct_weight,
        cast(1 as double) / touch_count as linear_weight,
        case
            when touch_count = 1 then cast(1 as double)
            when touch_count = 2 then cast(0.5 as double)
            when touch_position = 1 or touch_position = touch_count then cast(0.4 as double)
            else cast(0.2 as double) / (touch_count - 2)
        end as position_based_weight,
        decay_factor / sum(decay_factor) over (partition by order_id) as time_decay_weight
    from touches_ranked
)

select * from final
