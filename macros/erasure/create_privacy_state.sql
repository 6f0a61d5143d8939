{#-
    on-run-start: the restricted privacy schema and its erasure tables, created outside any
    model so that --full-refresh never drops them (same DDL as customer360.privacy.PRIVACY_DDL).
-#}
{% macro create_privacy_state() -%}
    {%- if target.type != 'duckdb' -%}{{ return('select 1') }}{%- endif -%}
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
