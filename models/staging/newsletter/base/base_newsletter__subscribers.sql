{%- set raw_cols = source_column_names('newsletter', 'subscribers') %}

with

source as (
    select * from {{ source('newsletter', 'subscribers') }}
    where not ({{ privacy_is_erased('newsletter', 'subscribers') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        {{ clean_text('subscriber_id') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'subscriber_id', clean_text('subscriber_id')) }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ normalize_email('email') }} as _email,
        {{ dbt.safe_cast('opted_in_at', 'timestamp') }} as _opted_in_at,
        {{ dbt.safe_cast('confirmed_at', 'timestamp') }} as _confirmed_at,
        {{ dbt.safe_cast('opted_out_at', 'timestamp') }} as _opted_out_at
    from keyed
),

final as (
    select
        _key as subscriber_id,
        _email as email,
        {{ clean_text('email') }} as email_raw,
        {{ is_valid_email('email', normalized='_email') }} as is_email_valid,
        lower({{ clean_text('status') }}) as subscription_status,
        _opted_in_at as opted_in_at,
        _confirmed_at as confirmed_at,
        _opted_out_at as opted_out_at,
        _confirmed_at is not null as is_double_opt_in,
        lower({{ clean_text('signup_source') }}) as signup_source,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('opted_in_at', '_opted_in_at', 'opted_in_at'),
            timestamp_reasons('confirmed_at', '_confirmed_at', 'confirmed_at', required=false),
            timestamp_reasons('opted_out_at', '_opted_out_at', 'opted_out_at', required=false),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
