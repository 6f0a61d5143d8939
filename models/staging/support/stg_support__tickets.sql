with

base as (
    select * from {{ ref('base_support__tickets') }}
),

final as (
    select
        ticket_id,
        email,
        email_raw,
        is_email_valid,
        phone,
        phone_raw,
        is_phone_valid,
        channel,
        category,
        opened_at,
        resolved_at,
        satisfaction_score
    from base
    where quarantine_reasons is null
)

select * from final
