{#- One row per order and attributed touch (or the order's single 'direct/none'
    pseudo-touch), with the revenue credit of that touch under six attribution models
    (weights: int_journey__attribution_weights). Credits are exact to the cent: each touch
    gets the whole cents of revenue x weight, and the cents left over go one each to the
    touches with the largest remainders (ties: the later touch), so the credits of one
    order sum exactly to order_revenue_base under every model. -#}
with

weights as (
    select * from {{ ref('int_journey__attribution_weights') }}
),

weights_in_cents as (
    select
        *,
        cast(round(order_revenue_base * 100, 0) as double) as revenue_cents
    from weights
),

weights_unpivoted as (
    select
        order_id,
        touch_position,
        'first_touch' as attribution_model,
        revenue_cents,
        revenue_cents * first_touch_weight as raw_cents
    from weights_in_cents

    union all

    select
        order_id,
        touch_position,
        'last_touch' as attribution_model,
        revenue_cents,
        revenue_cents * last_touch_weight as raw_cents
    from weights_in_cents

    union all

    select
        order_id,
        touch_position,
        'last_non_direct' as attribution_model,
        revenue_cents,
        revenue_cents * last_non_direct_weight as raw_cents
    from weights_in_cents

    union all

    select
        order_id,
        touch_position,
        'linear' as attribution_model,
        revenue_cents,
        revenue_cents * linear_weight as raw_cents
    from weights_in_cents

    union all

    select
        order_id,
        touch_position,
        'position_based' as attribution_model,
        revenue_cents,
        revenue_cents * position_based_weight as raw_cents
    from weights_in_cents

    union all

    select
        order_id,
        touch_position,
        'time_decay' as attribution_model,
        revenue_cents,
        revenue_cents * time_decay_weight as raw_cents
    from weights_in_cents
),

credits_floored as (
    select
        *,
        floor(raw_cents) as floor_cents
    from weights_unpivoted
),

credits_ranked as (
    select
        *,
        revenue_cents - sum(floor_cents) over (
            partition by order_id, attribution_model
        ) as leftover_cents,
        row_number() over (
            partition by order_id, attribution_model
            order by raw_cents - floor_cents desc, touch_position desc
        ) as remainder_rank
    from credits_floored
),

credits_allocated as (
    select
        order_id,
        touch_position,
        attribution_model,
        cast(
            floor_cents + case when remainder_rank <= leftover_cents then 1 else 0 end
            as {{ dbt.type_bigint() }}
        ) as credit_cents
    from credits_ranked
),

credits_pivoted as (
    select
        order_id,
        touch_position,
        sum(case when attribution_model = 'first_touch' then credit_cents end)
            as first_touch_credit_cents,
        sum(case when attribution_model = 'last_touch' then credit_cents end)
            as last_touch_credit_cents,
        sum(case when attribution_model = 'last_non_direct' then credit_cents end)
            as last_non_direct_credit_cents,
        sum(case when attribution_model = 'linear' then credit_cents end)
            as linear_credit_cents,
        sum(case when attribution_model = 'position_based' then credit_cents end)
            as position_based_credit_cents,
        sum(case when attribution_model = 'time_decay' then credit_cents end)
            as time_decay_credit_cents
    from credits_allocated
    group by order_id, touch_position
),

final as (
    select
        cast({{ dbt.hash(dbt.concat([
            'weights.order_id', "'|'", "coalesce(weights.touchpoint_id, 'direct/none')"
        ])) }} as {{ dbt.type_string() }}) as order_attribution_id,
        cast(weights.order_id as {{ dbt.type_string() }}) as order_id,
        cast(weights.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(weights.ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(weights.order_channel as {{ dbt.type_string() }}) as order_channel,
        cast(weights.order_revenue_base as decimal(18, 2)) as order_revenue_base,
        cast(weights.touchpoint_id as {{ dbt.type_string() }}) as touchpoint_id,
        weights.is_pseudo_touch,
        cast(weights.touched_at as {{ dbt.type_timestamp() }}) as touched_at,
        cast(weights.touch_channel as {{ dbt.type_string() }}) as touch_channel,
        cast(weights.marketing_channel as {{ dbt.type_string() }}) as marketing_channel,
        cast(weights.campaign as {{ dbt.type_string() }}) as campaign,
        cast(weights.touch_position as {{ dbt.type_int() }}) as touch_position,
        cast(weights.touch_count as {{ dbt.type_int() }}) as touch_count,
        cast(weights.days_before_order as double) as days_before_order,
        cast(weights.first_touch_weight as double) as first_touch_weight,
        cast(weights.last_touch_weight as double) as last_touch_weight,
        cast(weights.last_non_direct_weight as double) as last_non_direct_weight,
        cast(weights.linear_weight as double) as linear_weight,
        cast(weights.position_based_weight as double) as position_based_weight,
        cast(weights.time_decay_weight as double) as time_decay_weight,
        cast(
            cast(credits_pivoted.first_touch_credit_cents as decimal(18, 2)) / 100 as decimal(18, 2)
        ) as first_touch_credit_base,
        cast(
            cast(credits_pivoted.last_touch_credit_cents as decimal(18, 2)) / 100 as decimal(18, 2)
        ) as last_touch_credit_base,
        cast(
            cast(credits_pivoted.last_non_direct_credit_cents as decimal(18, 2)) / 100 as decimal(18, 2)
        ) as last_non_direct_credit_base,
        cast(
            cast(credits_pivoted.linear_credit_cents as decimal(18, 2)) / 100 as decimal(18, 2)
        ) as linear_credit_base,
        cast(
            cast(credits_pivoted.position_based_credit_cents as decimal(18, 2)) / 100 as decimal(18, 2)
        ) as position_based_credit_base,
        cast(
            cast(credits_pivoted.time_decay_credit_cents as decimal(18, 2)) / 100 as decimal(18, 2)
        ) as time_decay_credit_base
    from weights
    inner join credits_pivoted
        on weights.order_id = credits_pivoted.order_id
        and weights.touch_position = credits_pivoted.touch_position
)

select * from final
