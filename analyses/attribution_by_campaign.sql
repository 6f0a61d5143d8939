{#- Attributed revenue by marketing channel and campaign under each attribution model
    (fct_order_attribution: first_touch, last_touch, last_non_direct, linear,
    position_based, time_decay). One row per model, channel and campaign; under every
    model the credits add up to the attributed orders' revenue, so `share_of_revenue`
    sums to 1 per model (when revenue is not 0). Orders without a marketing touch in the
    lookback window are credited to 'direct/none'. -#}
{%- set attribution_models = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay'] %}
with

attribution as (

    select * from {{ ref('analyst__fct_order_attribution') }}

),

credits as (

    {%- for attribution_model in attribution_models %}
    select
        '{{ attribution_model }}' as attribution_model,
        marketing_channel,
        coalesce(campaign, '(none)') as campaign,
        order_id,
        {{ attribution_model }}_weight as weight,
        {{ attribution_model }}_credit_base as credit_base
    from attribution
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

by_campaign as (

    select
        attribution_model,
        marketing_channel,
        campaign,
        count(distinct case when weight > 0 then order_id end) as credited_orders,
        sum(weight) as credited_conversions,
        sum(credit_base) as attributed_revenue_base
    from credits
    group by attribution_model, marketing_channel, campaign

),

final as (

    select
        attribution_model,
        marketing_channel,
        campaign,
        credited_orders,
        credited_conversions,
        attributed_revenue_base,
        attributed_revenue_base
            / nullif(sum(attributed_revenue_base) over (partition by attribution_model), 0)
            as share_of_revenue
    from by_campaign

)

select * from final
order by attribution_model, attributed_revenue_base desc, marketing_channel, campaign
