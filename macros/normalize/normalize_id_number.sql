{#-
    normalize_id_number(col): a personal id number (national id, social security or card
    number) as letters and digits only, upper case ("123-45 678x" -> "12345678X"); null
    when none is left.
-#}

{% macro normalize_id_number(col) -%}
    {{ return(adapter.dispatch('normalize_id_number', 'customer360')(col)) }}
{%- endmacro %}

{% macro default__normalize_id_number(col) -%}
    nullif(upper(regexp_replace(cast({{ col }} as {{ dbt.type_string() }}), '[^0-9A-Za-z]', '', 'g')), '')
{%- endmacro %}

{% macro spark__normalize_id_number(col) -%}
    nullif(upper(regexp_replace(cast({{ col }} as string), '[^0-9A-Za-z]', '')), '')
{%- endmacro %}
