with

base as (
    select * from {{ ref('base_shop__customers') }}
),

final as (
    select
        shop_customer_id,
        email,
        email_raw,
        is_email_valid,
        first_name,
        last_name,
        first_name_normalized,
        last_name_normalized,
        phone,
        phone_raw,
        is_phone_valid,
        country_code,
        created_at,
        updated_at
    from base
    where quarantine_reasons is null
)

select * from final
