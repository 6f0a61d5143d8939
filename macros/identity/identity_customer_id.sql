{#- The customer ID for sequence number `seq_expression`, in the configured format:
    sequence: <prefix><seq zero-padded to identity_id_digits> (never truncated: a longer
    number stays longer and fails the format test); uuid: a deterministic UUID-formatted
    md5 of <namespace>:<seq>, version nibble 4 is not claimed (it is not random). -#}
{% macro identity_customer_id(seq_expression) -%}
    {{ return(adapter.dispatch('identity_customer_id', 'customer360')(seq_expression)) }}
{%- endmacro %}

{% macro default__identity_customer_id(seq_expression) -%}
    {%- set fmt = var('identity_id_format', 'sequence') -%}
    {%- set digits = var('identity_id_digits', 8) | int -%}
    {%- if fmt == 'uuid' -%}
        {%- set h = dbt.hash(dbt.concat(["'" ~ var('identity_uuid_namespace') ~ ":'", "cast(" ~ seq_expression ~ " as " ~ dbt.type_string() ~ ")"])) -%}
        {{ dbt.concat([
            "substr(" ~ h ~ ", 1, 8)", "'-'", "substr(" ~ h ~ ", 9, 4)", "'-'",
            "substr(" ~ h ~ ", 13, 4)", "'-'", "substr(" ~ h ~ ", 17, 4)", "'-'",
            "substr(" ~ h ~ ", 21, 12)",
        ]) }}
    {%- elif fmt == 'sequence' -%}
        {{ dbt.concat([
            "'" ~ var('identity_id_prefix') ~ "'",
            "case when " ~ seq_expression ~ " < " ~ (10 ** digits) ~ " then lpad(cast(" ~ seq_expression ~ " as " ~ dbt.type_string() ~ "), " ~ digits ~ ", '0') else cast(" ~ seq_expression ~ " as " ~ dbt.type_string() ~ ") end",
        ]) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("var identity_id_format must be 'sequence' or 'uuid', got '" ~ fmt ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- Regular expression every current customer ID matches (used by the format test). -#}
{% macro identity_customer_id_regex() -%}
    {%- if var('identity_id_format', 'sequence') == 'uuid' -%}
        {{ return('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') }}
    {%- else -%}
        {{ return('^' ~ var('identity_id_prefix') ~ '[0-9]{' ~ var('identity_id_digits') ~ '}$') }}
    {%- endif -%}
{%- endmacro %}
