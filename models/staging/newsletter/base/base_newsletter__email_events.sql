{%- set raw_cols = source_column_names('newsletter', 'email_events') %}

with

source as (
    select * from {{ source('newsletter', 'email_events') }}
    where not ({{ privacy_is_erased('newsletter', 'email_events') }})  -- erased people (docs/privacy.md)
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
        _key as email_event_id,
        {{ clean_text('subscriber_id') }} as subscriber_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        lower({{ clean_text('event_type') }}) as event_type,
        _occurred_at as occurred_at,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('occurred_at', '_occurred_at', 'occurred_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
