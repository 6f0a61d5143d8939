{#-
    source_column_names(source_name, table_name): the columns declared for a raw table in
    its sources YAML (generated from contracts.py), in contract order. At parse time the
    graph is not loaded yet and a placeholder is returned (parsing never runs the SQL).
-#}
{% macro source_column_names(source_name, table_name) -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == source_name and node.name == table_name -%}
                {{ return(node.columns.keys() | list) }}
            {%- endif -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error("source " ~ source_name ~ "." ~ table_name ~ " declares no columns") }}
    {%- endif -%}
    {{ return(['_parse_placeholder']) }}
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
