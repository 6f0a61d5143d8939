{%- set raw_cols = source_column_names('loyalty', 'members') %}

with

source as (
    select * from {{ source('loyalty', 'members') }}
    where not ({{ privacy_is_erased('loyalty', 'members') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        {{ normalize_loyalty_number('loyalty_number') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'loyalty_number', normalize_loyalty_number('loyalty_number')) }}
            as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ normalize_email('email') }} as _email,
        {{ normalize_phone('phone') }} as _phone,
        {{ dbt.safe_cast('enrolled_at', 'timestamp') }} as _enrolled_at
    from keyed
),

final as (
    select
        _key as loyalty_number,
        _email as email,
        {{ clean_text('email') }} as email_raw,
        {{ is_valid_email('email', normalized='_email') }} as is_email_valid,
        _phone as phone,
        {{ clean_text('phone') }} as phone_raw,
        {{ is_valid_phone('phone', normalized='_phone') }} as is_phone_valid,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_name('first_name') }} as first_name_normalized,
        {{ normalize_name('last_name') }} as last_name_normalized,
        lower({{ clean_text('tier') }}) as tier,
        _enrolled_at as enrolled_at,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('enrolled_at', '_enrolled_at', 'enrolled_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
