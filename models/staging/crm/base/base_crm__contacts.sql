{%- set raw_cols = source_column_names('crm', 'contacts') %}

with

source as (
    select * from {{ source('crm', 'contacts') }}
    where not ({{ privacy_is_erased('crm', 'contacts') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        {{ clean_text('contact_id') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'contact_id', clean_text('contact_id')) }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ normalize_email('email') }} as _email,
        {{ normalize_phone('phone', 'country_code') }} as _phone,
        {{ dbt.safe_cast('birth_date', 'date') }} as _birth_date,
        {{ dbt.safe_cast('created_at', 'timestamp') }} as _created_at,
        {{ dbt.safe_cast('updated_at', 'timestamp') }} as _updated_at
    from keyed
),

final as (
    select
        _key as crm_contact_id,
        _email as email,
        {{ clean_text('email') }} as email_raw,
        {{ is_valid_email('email', normalized='_email') }} as is_email_valid,
        _phone as phone,
        {{ clean_text('phone') }} as phone_raw,
        {{ is_valid_phone('phone', 'country_code', normalized='_phone') }} as is_phone_valid,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_name('first_name') }} as first_name_normalized,
        {{ normalize_name('last_name') }} as last_name_normalized,
        -- an optional birth date that is unparseable or impossible becomes null + flag
        case
            when _birth_date between cast('1900-01-01' as date) and current_date then _birth_date
        end as birth_date,
        case
            when {{ clean_text('birth_date') }} is null then null
            else coalesce(_birth_date between cast('1900-01-01' as date) and current_date, false)
        end as is_birth_date_valid,
        {{ clean_text('street') }} as street,
        {{ clean_text('postal_code') }} as postal_code,
        {{ clean_text('city') }} as city,
        upper({{ clean_text('country_code') }}) as country_code,
        {{ clean_text('created_by') }} as created_by,
        {{ normalize_id_number('id_number') }} as id_number,
        _created_at as created_at,
        _updated_at as updated_at,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('created_at', '_created_at', 'created_at'),
            timestamp_reasons('updated_at', '_updated_at', 'updated_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
