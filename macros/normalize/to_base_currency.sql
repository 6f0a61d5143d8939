{#-
    to_base_currency(amount, rate_to_base): an amount converted to the base currency
    (var `base_currency`) with the rate joined from stg_seeds__exchange_rates, rounded
    to cents. Null when the amount or the rate is null.
-#}

{% macro to_base_currency(amount, rate_to_base) -%}
    {{ return(adapter.dispatch('to_base_currency', 'customer360')(amount, rate_to_base)) }}
{%- endmacro %}

{% macro default__to_base_currency(amount, rate_to_base) -%}
    cast(round({{ amount }} * {{ rate_to_base }}, 2) as decimal(14, 2))
{%- endmacro %}
