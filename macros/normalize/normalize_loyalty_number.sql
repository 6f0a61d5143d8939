{#-
    normalize_loyalty_number(col): the card number as digits only ("1234 5678-90" ->
    "1234567890"); null when no digit is left.
-#}

{% macro normalize_loyalty_number(col) -%}
    {{ return(adapter.dispatch('normalize_loyalty_number', 'customer360')(col)) }}
{%- endmacro %}

{% macro default__normalize_loyalty_number(col) -%}
    nullif({{ digits_only("cast(" ~ col ~ " as " ~ dbt.type_string() ~ ")") }}, '')
{%- endmacro %}
