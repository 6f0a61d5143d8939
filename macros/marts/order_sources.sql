{#-
    order_sources(): staging models of further systems whose rows are orders, for
    fct_orders. A model is one when it is listed in var `order_source_models` and declares
    `config.meta.orders` in its YAML ({} or {source_system: ..., source_table: ...};
    default from its name stg_<system>__<table>). It must yield fct_orders' columns:
    order_id, ordered_at, channel, store_id, currency, order_status, gross_amount,
    gross_revenue_base, refunded_revenue_base, is_refunded, is_cancelled, is_return; its
    customer comes from customer_source_map (so it declares config.meta.identity too,
    keyed on order_id). The project config lists an eighth system's models in the var by
    itself (customer360.config); dbt records refs while parsing SQL, before YAML is read,
    hence the list. Returns [{model, source_system, source_table}].
-#}
{% macro order_sources() -%}
    {%- set names = var('order_source_models', []) or [] -%}
    {%- set sources = [] -%}
    {%- for name in names -%}
        {%- set parts = name[4:].split('__') if name.startswith('stg_') else [name, name] -%}
        {%- set declared = {'source_system': parts[0], 'source_table': parts[-1]} -%}
        {%- if execute and graph.nodes is defined -%}
            {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | selectattr('name', 'equalto', name) | list -%}
            {%- set meta = {} -%}
            {%- for node in nodes -%}
                {%- do meta.update(node.meta or {}) -%}
                {%- do meta.update(node.config.get('meta') or {}) -%}
            {%- endfor -%}
            {%- if meta.get('orders') is none -%}
                {{ exceptions.raise_compiler_error(
                    "var order_source_models lists " ~ name ~ ", but its YAML has no config.meta.orders") }}
            {%- endif -%}
            {%- do declared.update(meta['orders'] or {}) -%}
        {%- endif -%}
        {%- do sources.append({'model': name, 'source_system': declared['source_system'], 'source_table': declared['source_table']}) -%}
    {%- endfor -%}
    {{ return(sources) }}
{%- endmacro %}

{#- accepted_values plus the source_system of every declared order source (an eighth
    system's orders reach fct_orders and fct_touchpoints) -#}
{% test accepted_values_or_order_sources(model, column_name, values) %}
{%- set accepted = values + (order_sources() | map(attribute='source_system') | list) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} not in ({% for v in accepted %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
{% endtest %}
