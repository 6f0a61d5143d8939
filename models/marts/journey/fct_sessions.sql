{#- One row per web/app session (sessionization and its boundary rule:
    int_journey__digital_events_sessionized). -#}
with

events as (
    select * from {{ ref('int_journey__digital_events_sessionized') }}
),

sessions as (
    select
        session_id,
        max(session_owner_key) as session_owner_key,
        max(customer_id) as customer_id,
        max(session_number) as session_number,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        sum(case when source_system = 'web' then 1 else 0 end) as web_event_count,
        sum(case when source_system = 'app' then 1 else 0 end) as app_event_count,
        count(distinct anonymous_key) as anonymous_key_count,
        max(case when is_session_start then anonymous_key end) as landing_anonymous_key,
        max(case when is_session_start then source_system end) as landing_source_system,
        max(case when is_session_start then event_type end) as landing_event_type,
        max(case when is_session_start then page_url end) as landing_page_url,
        max(case when is_session_start then referrer end) as referrer,
        max(case when is_session_start then utm_source end) as utm_source,
        max(case when is_session_start then utm_medium end) as utm_medium,
        max(case when is_session_start then utm_campaign end) as utm_campaign,
        max(session_marketing_channel) as marketing_channel,
        max(case when identity_method = 'login' then 1 else 0 end) = 1 as has_logged_in_event,
        max(case when event_type = 'add_to_cart' then 1 else 0 end) = 1 as has_add_to_cart,
        max(case when event_type in ('checkout', 'purchase') then 1 else 0 end) = 1
            as has_checkout
    from events
    group by session_id
),

final as (
    select
        cast(session_id as {{ dbt.type_string() }}) as session_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        customer_id is null as is_anonymous,
        cast(session_owner_key as {{ dbt.type_string() }}) as session_owner_key,
        cast(landing_anonymous_key as {{ dbt.type_string() }}) as landing_anonymous_key,
        cast(session_number as {{ dbt.type_int() }}) as session_number,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(ended_at as {{ dbt.type_timestamp() }}) as ended_at,
        cast(
            {{ dbt.datediff('started_at', 'ended_at', 'second') }} as {{ dbt.type_bigint() }}  -- noqa: LT05
        ) as duration_seconds,
        cast(event_count as {{ dbt.type_int() }}) as event_count,
        cast(web_event_count as {{ dbt.type_int() }}) as web_event_count,
        cast(app_event_count as {{ dbt.type_int() }}) as app_event_count,
        cast(
            case
                when web_event_count > 0 and app_event_count > 0 then 'web+app'
                when web_event_count > 0 then 'web'
                else 'app'
            end as {{ dbt.type_string() }}
        ) as session_channel,
        cast(anonymous_key_count as {{ dbt.type_int() }}) as device_count,
        cast(landing_source_system as {{ dbt.type_string() }}) as landing_channel,
        cast(landing_event_type as {{ dbt.type_string() }}) as landing_event_type,
        cast(landing_page_url as {{ dbt.type_string() }}) as landing_page_url,
        cast(marketing_channel as {{ dbt.type_string() }}) as marketing_channel,
        cast(referrer as {{ dbt.type_string() }}) as referrer,
        cast(utm_source as {{ dbt.type_string() }}) as utm_source,
        cast(utm_medium as {{ dbt.type_string() }}) as utm_medium,
        cast(utm_campaign as {{ dbt.type_string() }}) as utm_campaign,
        has_logged_in_event,
        has_add_to_cart,
        has_checkout
    from sessions
)

select * from final
