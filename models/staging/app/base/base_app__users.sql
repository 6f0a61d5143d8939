{%- set raw_cols = source_column_names('app', 'users') %}

with

source as (
    select * from {{ source('app', 'users') }}
    where not ({{ privacy_is_erased('app', 'users') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        lower({{ clean_text('login_id') }}) as _key,
        {{ raw_row_fingerprint(raw_cols, 'login_id', 'lower(' ~ clean_text('login_id') ~ ')') }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ normalize_email('email') }} as _email,
        {{ dbt.safe_cast('created_at', 'timestamp') }} as _created_at
    from keyed
),

final as (
    select
        _key as app_login_id,
        _email as email,
        {{ clean_text('email') }} as email_raw,
        {{ is_valid_email('email', normalized='_email') }} as is_email_valid,
        _created_at as created_at,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('created_at', '_created_at', 'created_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
