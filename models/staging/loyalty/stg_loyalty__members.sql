with

base as (
    select * from {{ ref('base_loyalty__members') }}
),

final as (
    select
        loyalty_number,
        email,
        email_raw,
        is_email_valid,
        phone,
        phone_raw,
        is_phone_valid,
        first_name,
        last_name,
        first_name_normalized,
        last_name_normalized,
        tier,
        enrolled_at
    from base
    where quarantine_reasons is null
)

select * from final
