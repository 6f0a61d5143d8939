with

base as (
    select * from {{ ref('base_app__users') }}
),

final as (
    select
        app_login_id,
        email,
        email_raw,
        is_email_valid,
        created_at
    from base
    where quarantine_reasons is null
)

select * from final
