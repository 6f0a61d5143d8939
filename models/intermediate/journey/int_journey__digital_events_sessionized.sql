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

events_numbered as (
    select
        *,
        sum(starts_session) over (
            partition by session_owner_key
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from events_flagged
),

events_in_sessions as (
    select
        *,
        min(occurred_at) over (
            partition by session_owner_key, session_number
        ) as session_started_at,
        row_number() over (
            partition by session_owner_key, session_number
            order by occurred_at, event_id
        ) as event_sequence_in_session
    from events_numbered
),

events_with_landing as (
    select
        *,
        max(case when event_sequence_in_session = 1 then traffic_channel end) over (
            partition by session_owner_key, session_number
        ) as session_marketing_channel
    from events_in_sessions
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            'session_owner_key', "'|'",
            'cast(session_started_at as ' ~ dbt.type_string() ~ ')'
        ])) }} as session_id,
        session_owner_key,
        cast(session_number as {{ dbt.type_int() }}) as session_number,
        session_started_at,
        cast(event_sequence_in_session as {{ dbt.type_int() }}) as event_sequence_in_session,
        event_sequence_in_session = 1 as is_session_start,
        session_marketing_channel,
        event_id,
        source_system,
        anonymous_key,
        customer_id,
        identity_method,
        event_type,
        page_url,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        traffic_channel,
        occurred_at
    from events_with_landing
)

select * from final
