{#- Relations are named after their model, except the analyst layer: model
    `analyst__<mart>` (models/analyst) is published as analyst.<mart>, so analysts query
    the same names as the marts and each wrapper is one line. -#}
{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- if custom_alias_name -%}
        {{ custom_alias_name | trim }}
    {%- elif node.resource_type == 'model' and node.fqn[1] == 'analyst' and node.name.startswith('analyst__') -%}
        {{ node.name[('analyst__' | length):] }}
    {%- elif node.version -%}
        {{ return(node.name ~ "_v" ~ (node.version | replace(".", "_"))) }}
    {%- else -%}
        {{ node.name }}
    {%- endif -%}
{%- endmacro %}
