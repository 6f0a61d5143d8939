{%- set raw_cols = source_column_names('app', 'users') %}

with

source as (
    select * from {{ source('app', 'users') }}
    where not ({{ privacy_is_erased('app', 'users') }})  -- erased people (docs/privacy.md)
),

checked as (
    select
        *,
        {{ identifier_issue(clean_text('login_id')) }} as _login_issue
    from source
),

keyed as (
    select
        *,
        -- a look-alike login keeps its exact text as key: folded, it would collide with
        -- (and quarantine) the real account it imitates
        {%- set login_text = clean_text('login_id') %}
        {%- set login_key = 'coalesce(' ~ normalize_login(login_text) ~ ', ' ~ login_text ~ ')' %}
        {{ login_key }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'login_id', login_key) }} as _fingerprint
    from checked
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
            "'login_id_' || _login_issue",
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
