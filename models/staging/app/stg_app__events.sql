with

base as (
    select * from {{ ref('base_app__events') }}
),

final as (
    select
        app_event_id,
        device_id,
        app_login_id,
        event_name,
        occurred_at
    from base
    where quarantine_reasons is null
)

select * from final
