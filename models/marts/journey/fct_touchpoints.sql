{#- One row per interaction, from every channel: web and app events, e-mail events,
    support tickets, online orders and in-store transactions. Never-identified traffic is
    kept with customer_id null (is_anonymous). -#}
with

digital_events as (
    select * from {{ ref('int_journey__digital_events_sessionized') }}
),

email_events as (
    select * from {{ ref('stg_newsletter__email_events') }}
),

support_tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

subscribers_to_customers as (
    {{ customer_of_records('newsletter', 'subscribers', key_as='subscriber_id') }}
),

tickets_to_customers as (
    {{ customer_of_records('support', 'tickets', key_as='ticket_id') }}
),

digital_touchpoints as (
    select
        source_system || ':' || event_id as touchpoint_id,
        source_system,
        event_id as source_record_key,
        customer_id,
        identity_method,
        anonymous_key,
        source_system as channel,
        event_type as touchpoint_type,
        occurred_at,
        session_id,
        is_session_start,
        session_marketing_channel as marketing_channel,
        is_session_start as is_marketing_touch,
        utm_source,
        utm_medium,
        utm_campaign,
        referrer,
        page_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as decimal(18, 2)) as revenue_base
    from digital_events
),

email_touchpoints as (
    select
        'newsletter:' || email_events.email_event_id as touchpoint_id,
        'newsletter' as source_system,
        email_events.email_event_id as source_record_key,
        subscribers_to_customers.customer_id,
        case
            when subscribers_to_customers.customer_id is not null then 'subscriber'
            else 'unidentified'
        end as identity_method,
        cast(null as {{ dbt.type_string() }}) as anonymous_key,
        'email' as channel,
        'email_' || email_events.event_type as touchpoint_type,
        email_events.occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        false as is_session_start,
        'email' as marketing_channel,
        email_events.event_type in ('open', 'click') as is_marketing_touch,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        cast(null as {{ dbt.type_string() }}) as referrer,
        cast(null as {{ dbt.type_string() }}) as page_url,
        email_events.campaign_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as decimal(18, 2)) as revenue_base
    from email_events
    left join subscribers_to_customers
        on email_events.subscriber_id = subscribers_to_customers.subscriber_id
),

support_touchpoints as (
    select
        'support:' || support_tickets.ticket_id as touchpoint_id,
        'support' as source_system,
        support_tickets.ticket_id as source_record_key,
        tickets_to_customers.customer_id,
        case
            when tickets_to_customers.customer_id is not null then 'record'
            else 'unidentified'
        end as identity_method,
        cast(null as {{ dbt.type_string() }}) as anonymous_key,
        'support' as channel,
        'support_ticket' as touchpoint_type,
        support_tickets.opened_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        false as is_session_start,
        'support' as marketing_channel,
        false as is_marketing_touch,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        cast(null as {{ dbt.type_string() }}) as referrer,
        cast(null as {{ dbt.type_string() }}) as page_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as decimal(18, 2)) as revenue_base
    from support_tickets
    left join tickets_to_customers
        on support_tickets.ticket_id = tickets_to_customers.ticket_id
),

order_touchpoints as (
    select
        source_system || ':' || order_id as touchpoint_id,
        source_system,
        order_id as source_record_key,
        customer_id,
        case when customer_id is not null then 'record' else 'unidentified' end
            as identity_method,
        cast(null as {{ dbt.type_string() }}) as anonymous_key,
        channel,
        case
            when channel != 'store' then 'online_order'
            when is_return then 'store_return'
            else 'store_purchase'
        end as touchpoint_type,
        ordered_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        false as is_session_start,
        case when channel = 'store' then 'store' end as marketing_channel,
        false as is_marketing_touch,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        cast(null as {{ dbt.type_string() }}) as referrer,
        cast(null as {{ dbt.type_string() }}) as page_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        order_id,
        net_revenue_base as revenue_base
    from orders
),

touchpoints_unioned as (
    select * from digital_touchpoints
    union all
    select * from email_touchpoints
    union all
    select * from support_touchpoints
    union all
    select * from order_touchpoints
),

final as (
    select
        cast(touchpoint_id as {{ dbt.type_string() }}) as touchpoint_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        customer_id is null as is_anonymous,
        identity_method in ('cookie_next_login', 'cookie_previous_login') as is_stitched,
        cast(identity_method as {{ dbt.type_string() }}) as identity_method,
        cast(anonymous_key as {{ dbt.type_string() }}) as anonymous_key,
        cast(source_system as {{ dbt.type_string() }}) as source_system,
        cast(source_record_key as {{ dbt.type_string() }}) as source_record_key,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(touchpoint_type as {{ dbt.type_string() }}) as touchpoint_type,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(session_id as {{ dbt.type_string() }}) as session_id,
        is_session_start,
        cast(marketing_channel as {{ dbt.type_string() }}) as marketing_channel,
        is_marketing_touch,
        cast(utm_source as {{ dbt.type_string() }}) as utm_source,
        cast(utm_medium as {{ dbt.type_string() }}) as utm_medium,
        cast(utm_campaign as {{ dbt.type_string() }}) as utm_campaign,
        cast(referrer as {{ dbt.type_string() }}) as referrer,
        cast(page_url as {{ dbt.type_string() }}) as page_url,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(revenue_base as decimal(18, 2)) as revenue_base
    from touchpoints_unioned
)

select * from final
