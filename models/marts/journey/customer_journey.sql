{#- One row per customer in dim_customer: how they arrived, when they signed up and first
    bought, where they are in the lifecycle today and which channels they use.
    Lifecycle stage, as of journey_as_of (var('journey_as_of_date'), default the latest
    touchpoint in the data):
      prospect          no purchase yet
      churned           last purchase >= var('lifecycle_churned_after_days') (180) days ago
      at_risk           last purchase >= var('lifecycle_at_risk_after_days') (90) days ago
      first_time_buyer  exactly one purchase, more recent than that
      repeat            two or more purchases, the last more recent than that -#}
{#- the sign-up of each account-like source, attached to its customer: (system, table,
    import CTE, record key, sign-up time) -#}
{%- set signup_sources = [
    ('shop', 'customers', 'shop_accounts', 'shop_customer_id', 'created_at'),
    ('app', 'users', 'app_accounts', 'app_login_id', 'created_at'),
    ('newsletter', 'subscribers', 'newsletter_subscriptions', 'subscriber_id', 'opted_in_at'),
    ('loyalty', 'members', 'loyalty_memberships', 'loyalty_number', 'enrolled_at'),
] %}
with

customers as (
    select * from {{ ref('dim_customer') }}
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

shop_accounts as (
    select * from {{ ref('stg_shop__customers') }}
),

app_accounts as (
    select * from {{ ref('stg_app__users') }}
),

newsletter_subscriptions as (
    select * from {{ ref('stg_newsletter__subscribers') }}
),

loyalty_memberships as (
    select * from {{ ref('stg_loyalty__members') }}
),

{% for system, table, accounts, key, signed_up_at in signup_sources -%}
{{ accounts }}_customers as (
    {{ customer_of_records(system, table, key_as=key) }}
),

{% endfor -%}
as_of as (
    {% if var('journey_as_of_date') %}
        select
            cast('{{ var("journey_as_of_date") }}' as {{ dbt.type_timestamp() }})
                as journey_as_of
    {% else %}
    select max(occurred_at) as journey_as_of
    from touchpoints
    {% endif %}
),

signups as (
    {% for system, table, accounts, key, signed_up_at in signup_sources -%}
    select
        {{ accounts }}_customers.customer_id,
        '{{ system }}' as signup_system,
        {{ accounts }}.{{ signed_up_at }} as signed_up_at
    from {{ accounts }}
    inner join {{ accounts }}_customers
        on {{ accounts }}.{{ key }} = {{ accounts }}_customers.{{ key }}
    {% if not loop.last %}union all
    {% endif -%}
    {% endfor %}
),

first_signups as (
    select
        customer_id,
        signup_system,
        signed_up_at
    from (
        select
            *,
            row_number() over (
                partition by customer_id order by signed_up_at, signup_system
            ) as signup_rank
        from signups
        where signed_up_at is not null
    ) as ranked_signups
    where signup_rank = 1
),

first_touches as (
    select
        customer_id,
        occurred_at as first_touch_at,
        channel as first_touch_channel,
        touchpoint_type as first_touch_type,
        coalesce(marketing_channel, 'direct') as acquisition_channel
    from (
        select
            *,
            row_number() over (
                partition by customer_id order by occurred_at, touchpoint_id
            ) as touch_rank
        from touchpoints
        where customer_id is not null
    ) as ranked_touches
    where touch_rank = 1
),

touch_mix as (
    select
        customer_id,
        count(*) as touchpoint_count,
        max(occurred_at) as last_touch_at,
        sum(case when channel = 'web' then 1 else 0 end) as web_touchpoints,
        sum(case when channel = 'app' then 1 else 0 end) as app_touchpoints,
        sum(case when channel = 'email' then 1 else 0 end) as email_touchpoints,
        sum(case when channel = 'support' then 1 else 0 end) as support_touchpoints,
        sum(case when channel = 'store' then 1 else 0 end) as store_touchpoints,
        count(distinct channel) as channel_count
    from touchpoints
    where customer_id is not null
    group by customer_id
),

channels_used as (
    select
        customer_id,
        {{ ordered_string_agg('channel', "','", 'channel') }} as channels_used
    from (
        select distinct
            customer_id,
            channel
        from touchpoints
        where customer_id is not null
    ) as customer_channels
    group by customer_id
),

session_counts as (
    select
        customer_id,
        count(*) as session_count
    from sessions
    where customer_id is not null
    group by customer_id
),

purchases as (
    select
        customer_id,
        count(*) as purchase_count,
        sum(case when channel = 'store' then 1 else 0 end) as store_purchase_count,
        sum(case when channel != 'store' then 1 else 0 end) as online_purchase_count,
        min(ordered_at) as first_purchase_at,
        max(ordered_at) as last_purchase_at
    from orders
    where is_purchase and customer_id is not null
    group by customer_id
),

revenue as (
    select
        customer_id,
        sum(net_revenue_base) as net_revenue_base
    from orders
    where customer_id is not null
    group by customer_id
),

first_purchase_channels as (
    select
        customer_id,
        channel as first_purchase_channel
    from orders
    where is_first_purchase
),

customers_joined as (
    select
        customers.customer_id,
        first_touches.first_touch_at,
        first_touches.first_touch_channel,
        first_touches.first_touch_type,
        coalesce(first_touches.acquisition_channel, 'unknown') as acquisition_channel,
        first_signups.signed_up_at,
        first_signups.signup_system,
        purchases.first_purchase_at,
        first_purchase_channels.first_purchase_channel,
        purchases.last_purchase_at,
        coalesce(purchases.purchase_count, 0) as purchase_count,
        coalesce(purchases.online_purchase_count, 0) as online_purchase_count,
        coalesce(purchases.store_purchase_count, 0) as store_purchase_count,
        coalesce(revenue.net_revenue_base, 0) as net_revenue_base,
        coalesce(touch_mix.touchpoint_count, 0) as touchpoint_count,
        touch_mix.last_touch_at,
        coalesce(session_counts.session_count, 0) as session_count,
        coalesce(touch_mix.web_touchpoints, 0) as web_touchpoints,
        coalesce(touch_mix.app_touchpoints, 0) as app_touchpoints,
        coalesce(touch_mix.email_touchpoints, 0) as email_touchpoints,
        coalesce(touch_mix.support_touchpoints, 0) as support_touchpoints,
        coalesce(touch_mix.store_touchpoints, 0) as store_touchpoints,
        coalesce(touch_mix.channel_count, 0) as channel_count,
        channels_used.channels_used,
        as_of.journey_as_of
    from customers
    cross join as_of
    left join first_touches on customers.customer_id = first_touches.customer_id
    left join first_signups on customers.customer_id = first_signups.customer_id
    left join purchases on customers.customer_id = purchases.customer_id
    left join first_purchase_channels
        on customers.customer_id = first_purchase_channels.customer_id
    left join revenue on customers.customer_id = revenue.customer_id
    left join touch_mix on customers.customer_id = touch_mix.customer_id
    left join channels_used on customers.customer_id = channels_used.customer_id
    left join session_counts on customers.customer_id = session_counts.customer_id
),

customers_staged as (
    select
        *,
        {{ dbt.datediff('first_touch_at', 'first_purchase_at', 'day') }}
            as days_to_first_purchase,
        {{ dbt.datediff('last_purchase_at', 'journey_as_of', 'day') }}
            as days_since_last_purchase
    from customers_joined
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(
            case
                when purchase_count = 0 then 'prospect'
                when days_since_last_purchase >= {{ var('lifecycle_churned_after_days') }}
                    then 'churned'
                when days_since_last_purchase >= {{ var('lifecycle_at_risk_after_days') }}
                    then 'at_risk'
                when purchase_count = 1 then 'first_time_buyer'
                else 'repeat'
            end as {{ dbt.type_string() }}
        ) as lifecycle_stage,
        cast(first_touch_at as {{ dbt.type_timestamp() }}) as first_touch_at,
        cast(first_touch_channel as {{ dbt.type_string() }}) as first_touch_channel,
        cast(first_touch_type as {{ dbt.type_string() }}) as first_touch_type,
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(signed_up_at as {{ dbt.type_timestamp() }}) as signed_up_at,
        cast(signup_system as {{ dbt.type_string() }}) as signup_system,
        cast(first_purchase_at as {{ dbt.type_timestamp() }}) as first_purchase_at,
        cast(first_purchase_channel as {{ dbt.type_string() }}) as first_purchase_channel,
        cast(days_to_first_purchase as {{ dbt.type_int() }}) as days_to_first_purchase,
        cast(last_purchase_at as {{ dbt.type_timestamp() }}) as last_purchase_at,
        cast(days_since_last_purchase as {{ dbt.type_int() }}) as days_since_last_purchase,
        cast(purchase_count as {{ dbt.type_int() }}) as purchase_count,
        cast(online_purchase_count as {{ dbt.type_int() }}) as online_purchase_count,
        cast(store_purchase_count as {{ dbt.type_int() }}) as store_purchase_count,
        cast(net_revenue_base as decimal(18, 2)) as net_revenue_base,
        cast(touchpoint_count as {{ dbt.type_int() }}) as touchpoint_count,
        cast(last_touch_at as {{ dbt.type_timestamp() }}) as last_touch_at,
        cast(session_count as {{ dbt.type_int() }}) as session_count,
        cast(web_touchpoints as {{ dbt.type_int() }}) as web_touchpoints,
        cast(app_touchpoints as {{ dbt.type_int() }}) as app_touchpoints,
        cast(email_touchpoints as {{ dbt.type_int() }}) as email_touchpoints,
        cast(support_touchpoints as {{ dbt.type_int() }}) as support_touchpoints,
        cast(store_touchpoints as {{ dbt.type_int() }}) as store_touchpoints,
        cast(channel_count as {{ dbt.type_int() }}) as channel_count,
        cast(channels_used as {{ dbt.type_string() }}) as channels_used,
        cast(journey_as_of as {{ dbt.type_timestamp() }}) as journey_as_of
    from customers_staged
)

select * from final
