{#-
    source_column_names(source_name, table_name): the columns of a raw table in contract
    order, from raw_contract_columns (generated from contracts.py together with the
    sources YAML; the graph's sources are not available inside unit tests).
-#}
{% macro source_column_names(source_name, table_name) -%}
    {{ return(raw_contract_columns(source_name, table_name)) }}
{%- endmacro %}

{#- `col as raw__col, ...`: the raw values kept beside the typed ones for the quarantine -#}
{% macro raw_column_aliases(columns) -%}
    {%- for c in columns -%}
        {{ c }} as raw__{{ c }}{% if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- `raw__col as col, ...`: the raw row as exported, for the quarantine models -#}
{% macro raw_columns_restored(columns) -%}
    {%- for c in columns -%}
        raw__{{ c }} as {{ c }}{% if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- the fingerprint of a raw row, with the normalised key in place of the raw key column -#}
{% macro raw_row_fingerprint(columns, key_column, key_expression) -%}
    {%- set parts = [key_expression] -%}
    {%- for c in columns if c != key_column -%}
        {%- do parts.append(c) -%}
    {%- endfor -%}
    {{ row_fingerprint(parts) }}
{%- endmacro %}
