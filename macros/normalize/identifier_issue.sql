{#-
    Look-alike identifiers (customer360.identifiers, docs/identity.md): an e-mail or login
    is checked BEFORE any case folding, because DuckDB's lower() folds some non-ASCII
    letters to ASCII (KELVIN SIGN -> k, İ -> i) and keeps others that look like ASCII
    (Cyrillic а).

    identifier_issue(expr): null when the value may be matched as typed, else the reason:
    compatibility_characters (NFKC changes it), invisible_characters, folds_to_ascii,
    mixed_scripts, confusable_with_latin. Plain ASCII is decided in SQL
    (byte length = length); only other values reach the vectorised Python UDF
    c360_identifier_issue that the dbt-duckdb plugin registers. Engines without it treat
    every non-ASCII value as 'non_ascii'.

    normalize_login(expr): the login lower-cased and trimmed, or null when it has an issue.

    E-mails need no UDF in staging: normalize_email only accepts ASCII addresses, and it
    checks that on the value as given, before lower(); identity_audit names the reason of
    each rejected non-ASCII e-mail with identifier_issue. Cost at 34M values (2 cores,
    benchmarks/bench_identifiers.py): the ASCII check 2.0 s; identifier_issue over every
    value 26 s (the UDF is entered once per vector that holds a non-ASCII value), so it
    is used only on logins and on the few non-ASCII e-mails the audit lists.
-#}

{#- true when the text is plain ASCII (bytes = characters) -#}
{% macro is_ascii(expr) -%}
    {{ return(adapter.dispatch('is_ascii', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__is_ascii(expr) -%}
    (octet_length({{ expr }}) = length({{ expr }}))
{%- endmacro %}

{% macro duckdb__is_ascii(expr) -%}
    (strlen({{ expr }}) = length({{ expr }}))
{%- endmacro %}

{% macro identifier_issue(expr) -%}
    {{ return(adapter.dispatch('identifier_issue', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__identifier_issue(expr) -%}
    case when not {{ is_ascii(expr) }} then 'non_ascii' end
{%- endmacro %}

{% macro duckdb__identifier_issue(expr) -%}
    case when not {{ is_ascii(expr) }} then c360_identifier_issue({{ expr }}) end
{%- endmacro %}

{% macro normalize_login(expr) -%}
    case when ({{ identifier_issue(expr) }}) is null then lower({{ expr }}) end
{%- endmacro %}
