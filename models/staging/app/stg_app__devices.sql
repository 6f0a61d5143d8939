with

base as (
    select * from {{ ref('base_app__devices') }}
),

final as (
    select
        device_id,
        app_login_id,
        platform,
        first_seen_at
    from base
    where quarantine_reasons is null
)

select * from final
