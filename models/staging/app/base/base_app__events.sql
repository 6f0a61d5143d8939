{%- set raw_cols = source_column_names('app', 'events') %}

with

source as (
    select * from {{ source('app', 'events') }}
    where not ({{ privacy_is_erased('app', 'events') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        {{ clean_text('event_id') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'event_id', clean_text('event_id')) }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ dbt.safe_cast('occurred_at', 'timestamp') }} as _occurred_at
    from keyed
),

final as (
    select
        _key as app_event_id,
        lower({{ clean_text('device_id') }}) as device_id,
        -- null for a look-alike login (identifier_issue)
        {{ normalize_login(clean_text('login_id')) }} as app_login_id,
        lower({{ clean_text('event_name') }}) as event_name,
        _occurred_at as occurred_at,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('occurred_at', '_occurred_at', 'occurred_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
