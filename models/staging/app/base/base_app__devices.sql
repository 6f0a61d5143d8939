{%- set raw_cols = source_column_names('app', 'devices') %}

with

source as (
    select * from {{ source('app', 'devices') }}
    where not ({{ privacy_is_erased('app', 'devices') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        lower({{ clean_text('device_id') }}) as _key,
        {{ raw_row_fingerprint(raw_cols, 'device_id', 'lower(' ~ clean_text('device_id') ~ ')') }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ dbt.safe_cast('first_seen_at', 'timestamp') }} as _first_seen_at
    from keyed
),

final as (
    select
        _key as device_id,
        -- null for a look-alike login (identifier_issue)
        {{ normalize_login(clean_text('login_id')) }} as app_login_id,
        lower({{ clean_text('platform') }}) as platform,
        _first_seen_at as first_seen_at,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('first_seen_at', '_first_seen_at', 'first_seen_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
