{#-
    on-run-start: the restricted privacy schema and its erasure tables, created outside any
    model so that --full-refresh never drops them (same DDL as customer360.privacy.PRIVACY_DDL).
-#}
{% macro create_privacy_state() -%}
    {{ return(adapter.dispatch('create_privacy_state', 'customer360')()) }}
{%- endmacro %}

{#- Spark runs one statement per call and has no primary keys: the same tables (Parquet),
    created here statement by statement; the hook itself then runs a no-op select -#}
{% macro spark__create_privacy_state() -%}
    {%- if execute -%}
        {%- do run_query('create schema if not exists privacy') -%}
        {%- do run_query('create table if not exists privacy.erasure_requests (request_id string not null, requested_at timestamp not null, requested_by string not null, subject_kind string not null, subject_hmac string not null, customer_id_hmac string, n_records int not null, n_identifiers int not null) using parquet') -%}
        {%- do run_query('create table if not exists privacy.erasure_suppressions (request_id string not null, suppression_kind string not null, scope string not null, value_hmac string not null) using parquet') -%}
    {%- endif -%}
    select 1 as privacy_state_created
{%- endmacro %}

{% macro default__create_privacy_state() -%}
    create schema if not exists privacy;
    create table if not exists privacy.erasure_requests (
        request_id varchar primary key,
        requested_at timestamp not null,
        requested_by varchar not null,
        subject_kind varchar not null,
        subject_hmac varchar not null,
        customer_id_hmac varchar,
        n_records integer not null,
        n_identifiers integer not null
    );
    create table if not exists privacy.erasure_suppressions (
        request_id varchar not null,
        suppression_kind varchar not null,
        scope varchar not null,
        value_hmac varchar not null
    )
{%- endmacro %}
