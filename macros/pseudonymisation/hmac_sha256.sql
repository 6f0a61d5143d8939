{#-
    hmac_sha256(expr): hex HMAC-SHA256 of the text of `expr` with the project's secret key
    (env C360_HMAC_KEY; docs/privacy.md), null for null input. The key never appears in
    SQL: the dbt-duckdb plugin customer360.privacy_plugin sets the two pad blocks as
    session variables on every connection. Without a key the query fails with a message
    saying how to set one. Verified against Python's hmac module in test_privacy.py.
-#}
{% macro hmac_sha256(expr) -%}
    {{ return(adapter.dispatch('hmac_sha256', 'customer360')(expr)) }}
{%- endmacro %}

{% macro duckdb__hmac_sha256(expr) -%}
    case
        when getvariable('c360_hmac_ipad') is null
            then error('customer360: no HMAC key. Set C360_HMAC_KEY (a secret kept out of git) (at least 32 characters); only `customer360 demo` makes local demo keys; see docs/privacy.md')
        when ({{ expr }}) is not null
            then sha256(getvariable('c360_hmac_opad') || unhex(sha256(getvariable('c360_hmac_ipad') || encode(cast({{ expr }} as varchar)))))
    end
{%- endmacro %}

{% macro default__hmac_sha256(expr) -%}
    {{ exceptions.raise_compiler_error("hmac_sha256 is implemented for DuckDB only (customer360.privacy_plugin); add a dispatch implementation for " ~ target.type) }}
{%- endmacro %}
