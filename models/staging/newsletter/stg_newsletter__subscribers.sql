with

base as (
    select * from {{ ref('base_newsletter__subscribers') }}
),

final as (
    select
        subscriber_id,
        email,
        email_raw,
        is_email_valid,
        subscription_status,
        opted_in_at,
        confirmed_at,
        opted_out_at,
        is_double_opt_in,
        signup_source
    from base
    where quarantine_reasons is null
)

select * from final
