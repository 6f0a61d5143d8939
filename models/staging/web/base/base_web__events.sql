{%- set raw_cols = source_column_names('web', 'events') %}

with

source as (
    select * from {{ source('web', 'events') }}
    where not ({{ privacy_is_erased('web', 'events') }})  -- erased people (docs/privacy.md)
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
        _key as web_event_id,
        lower({{ clean_text('cookie_id') }}) as cookie_id,
        {{ clean_text('user_id') }} as shop_customer_id,
        lower({{ clean_text('event_type') }}) as event_type,
        {{ clean_text('page_url') }} as page_url,
        lower({{ clean_text('referrer') }}) as referrer,
        lower({{ clean_text('utm_source') }}) as utm_source,
        lower({{ clean_text('utm_medium') }}) as utm_medium,
        lower({{ clean_text('utm_campaign') }}) as utm_campaign,
        _occurred_at as occurred_at,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('occurred_at', '_occurred_at', 'occurred_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
