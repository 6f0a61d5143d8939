{%- set raw_cols = source_column_names('support', 'tickets') %}

with

source as (
    select * from {{ source('support', 'tickets') }}
    where not ({{ privacy_is_erased('support', 'tickets') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        {{ clean_text('ticket_id') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'ticket_id', clean_text('ticket_id')) }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ normalize_email('requester_email') }} as _email,
        {{ normalize_phone('requester_phone') }} as _phone,
        {{ dbt.safe_cast('opened_at', 'timestamp') }} as _opened_at,
        {{ dbt.safe_cast('resolved_at', 'timestamp') }} as _resolved_at,
        {{ dbt.safe_cast('satisfaction_score', 'integer') }} as _satisfaction_score
    from keyed
),

final as (
    select
        _key as ticket_id,
        _email as email,
        {{ clean_text('requester_email') }} as email_raw,
        {{ is_valid_email('requester_email', normalized='_email') }} as is_email_valid,
        _phone as phone,
        {{ clean_text('requester_phone') }} as phone_raw,
        {{ is_valid_phone('requester_phone', normalized='_phone') }} as is_phone_valid,
        lower({{ clean_text('channel') }}) as channel,
        lower({{ clean_text('category') }}) as category,
        _opened_at as opened_at,
        _resolved_at as resolved_at,
        _satisfaction_score as satisfaction_score,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('opened_at', '_opened_at', 'opened_at'),
            timestamp_reasons('resolved_at', '_resolved_at', 'resolved_at', required=false),
            numeric_reasons('satisfaction_score', '_satisfaction_score', 'satisfaction_score', required=false, minimum=1, maximum=5),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
