{#- Web and app events cut into sessions. A session belongs to the customer when the event
    is identified (so one customer's web and app events share a timeline and a session can
    span both), else to the anonymous cookie/device.
    Boundary rule: an event starts a new session when it comes at least
    var('session_inactivity_minutes') (default 30) after the owner's previous event:
    a gap of 29:59 continues the session, 30:00 and 30:01 start a new one (unit-tested).
    Ties on the timestamp are ordered by event_id so the result is deterministic. -#}
with

events as (
    select * from {{ ref('int_journey__digital_events_unioned') }}
),

events_owned as (
    select
        *,
        coalesce(customer_id, anonymous_key) as session_owner_key
    from events
),

events_with_previous as (
    select
        *,
        lag(occurred_at) over (
            partition by session_owner_key
            order by occurred_at, event_id
        ) as previous_occurred_at
    from events_owned
),

events_flagged as (
    select
        *,
        case
            when previous_occurred_at is null then 1
            when
                occurred_at >= {{ dbt.dateadd(
                    'minute', var('session_inactivity_minutes'), 'previous_occurred_at'
                ) }}
                then 1
            else 0
        end as starts_session
    from events_with_previous
),

-- running sums over the same window as the lag: one sort per owner timeline
events_numbered as (
    select
        *,
        sum(starts_session) over (
            partition by session_owner_key
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_number,
        max(case when starts_session = 1 then occurred_at end) over (
            partition by session_owner_key
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_started_at
    from events_flagged
),

events_with_session_id as (
    select
        *,
        {{ dbt.hash(dbt.concat([
            'session_owner_key', "'|'",
            'cast(session_started_at as ' ~ dbt.type_string() ~ ')'
        ])) }} as session_id
    from events_numbered
),

landing_events as (
    select
        session_id,
        traffic_channel as session_marketing_channel
    from events_with_session_id
    where starts_session = 1
),

final as (
    select
        events_with_session_id.session_id,
        events_with_session_id.session_owner_key,
        cast(events_with_session_id.session_number as {{ dbt.type_int() }}) as session_number,
        events_with_session_id.session_started_at,
        events_with_session_id.starts_session = 1 as is_session_start,
        landing_events.session_marketing_channel,
        events_with_session_id.event_id,
        events_with_session_id.source_system,
        events_with_session_id.anonymous_key,
        events_with_session_id.customer_id,
        events_with_session_id.identity_method,
        events_with_session_id.event_type,
        events_with_session_id.page_url,
        events_with_session_id.referrer,
        events_with_session_id.utm_source,
        events_with_session_id.utm_medium,
        events_with_session_id.utm_campaign,
        events_with_session_id.traffic_channel,
        events_with_session_id.occurred_at
    from events_with_session_id
    inner join landing_events
        on events_with_session_id.session_id = landing_events.session_id
)

select * from final
