with

base as (
    select * from {{ ref('base_crm__contacts') }}
),

final as (
    select
        crm_contact_id,
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
        birth_date,
        is_birth_date_valid,
        street,
        postal_code,
        city,
        country_code,
        created_by,
        id_number,
        created_at,
        updated_at
    from base
    where quarantine_reasons is null
)

select * from final
