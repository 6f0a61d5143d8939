{#- Accessors for the identity declaration in dbt_project.yml (vars identity_*). -#}

{% macro identity_sources() -%}
    {{ return(var('identity_sources')) }}
{%- endmacro %}

{% macro identity_identifier_types() -%}
    {{ return(var('identity_identifier_types')) }}
{%- endmacro %}

{#- A SQL case expression mapping the column `type_column` to attribute `attr` of its type. -#}
{% macro identity_type_attribute(type_column, attr, default='null') -%}
    case {{ type_column }}
    {%- for name, cfg in identity_identifier_types().items() %}
        {%- set value = cfg.get(attr) %}
        when '{{ name }}' then {% if value is none %}{{ default }}{% elif value is sameas true %}true{% elif value is sameas false %}false{% elif value is number %}{{ value }}{% else %}'{{ value }}'{% endif %}
    {%- endfor %}
        else {{ default }}
    end
{%- endmacro %}

{#- `system.table:key`: the record id used across the identity models. -#}
{% macro identity_record_id(source_system, source_table, key_column) -%}
    {{ dbt.concat(["'" ~ source_system ~ "." ~ source_table ~ ":'", "cast(" ~ key_column ~ " as " ~ dbt.type_string() ~ ")"]) }}
{%- endmacro %}

{#- Sorted initials of two normalised name columns: swaps and most typos keep the key. -#}
{% macro identity_name_key(first_column, last_column) -%}
    case
        when {{ first_column }} is null or {{ last_column }} is null then null
        else {{ dbt.concat([
            "least(substr(" ~ first_column ~ ", 1, 1), substr(" ~ last_column ~ ", 1, 1))",
            "greatest(substr(" ~ first_column ~ ", 1, 1), substr(" ~ last_column ~ ", 1, 1))",
        ]) }}
    end
{%- endmacro %}

{#- The relation of a persistent identity_state table, or none on the first build. Read
    through the adapter (not ref) so a model can read the previous state of a table it
    feeds without a ref cycle. -#}
{% macro identity_state_relation(name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema='identity_state', identifier=name)) }}
{%- endmacro %}

{#- The timestamp recorded for this build's ID changes. -#}
{% macro identity_build_at() -%}
    {%- set at = var('identity_build_at', none) -%}
    {%- if at -%}cast('{{ at }}' as timestamp){%- else -%}cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp){%- endif -%}
{%- endmacro %}

{#- SQL selecting `columns` ({name: type}) from the previous build's identity_state table
    `name`, or an empty set of the same shape on the first build (or after reset-ids). -#}
{% macro identity_previous_state(name, columns) -%}
    {%- set relation = identity_state_relation(name) -%}
    {%- if relation is not none %}
    select {% for col in columns %}{{ col }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ relation }}
    {%- else %}
    select {% for col, type in columns.items() %}cast(null as {{ type }}) as {{ col }}{% if not loop.last %}, {% endif %}{% endfor %}
    where 1 = 0
    {%- endif %}
{%- endmacro %}

{% macro identity_registry_columns() -%}
    {{ return({
        'customer_id': dbt.type_string(),
        'id_seq': dbt.type_bigint(),
        'status': dbt.type_string(),
        'current_customer_id': dbt.type_string(),
        'first_seen_at': dbt.type_timestamp(),
        'minted_at': dbt.type_timestamp(),
        'split_from_customer_id': dbt.type_string(),
        'merged_into_customer_id': dbt.type_string(),
        'merge_identifier_type': dbt.type_string(),
        'merge_identifier_value': dbt.type_string(),
        'valid_from': dbt.type_timestamp(),
        'valid_to': dbt.type_timestamp(),
    }) }}
{%- endmacro %}

{#- identity_record_id from column expressions (system, table and key all columns). -#}
{% macro identity_record_id_expression(system_column, table_column, key_column) -%}
    {{ dbt.concat([system_column, "'.'", table_column, "':'", key_column]) }}
{%- endmacro %}
