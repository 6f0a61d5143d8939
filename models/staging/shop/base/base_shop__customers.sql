{%- set raw_cols = source_column_names('shop', 'customers') %}

with

source as (
    select * from {{ source('shop', 'customers') }}
    where not ({{ privacy_is_erased('shop', 'customers') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        {{ clean_text('customer_id') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'customer_id', clean_text('customer_id')) }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ normalize_email('email') }} as _email,
        {{ normalize_phone('phone', 'country_code') }} as _phone,
        {{ dbt.safe_cast('created_at', 'timestamp') }} as _created_at,
        {{ dbt.safe_cast('updated_at', 'timestamp') }} as _updated_at
    from keyed
),

final as (
    select
        _key as shop_customer_id,
        _email as email,
        {{ clean_text('email') }} as email_raw,
        {{ is_valid_email('email', normalized='_email') }} as is_email_valid,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_name('first_name') }} as first_name_normalized,
        {{ normalize_name('last_name') }} as last_name_normalized,
        _phone as phone,
        {{ clean_text('phone') }} as phone_raw,
        {{ is_valid_phone('phone', 'country_code', normalized='_phone') }} as is_phone_valid,
        upper({{ clean_text('country_code') }}) as country_code,
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
