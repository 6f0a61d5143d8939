{#-
    Seeds on Spark. dbt-spark 1.11 binds seed values by pasting them between quotes
    without escaping (a quote in a value, e.g. "the store's own cards", breaks the
    insert; an empty cell becomes the text 'None'). This override of dbt-spark's
    spark__load_csv_rows reads the CSV file with Spark on the local target, and elsewhere
    (a cluster cannot see the file) writes each value as an escaped Spark literal (null
    for an empty cell); both cast to the column's type as dbt-spark does.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {#- local Spark (target spark) reads the seed file itself, as DuckDB does: agate's
        type tester turns the text 'null' into a null (identity_blocklist_values lists
        'null' as a placeholder identifier) -#}
    {%- if target.name == 'spark' -%}
        {%- set path = model['root_path'] ~ '/' ~ model['original_file_path'] -%}
        {%- set view = 'c360_seed_file_' ~ model['name'] -%}
        {%- do adapter.add_query("create or replace temporary view " ~ view ~ " using csv options (path '" ~ path ~ "', header 'true', inferSchema 'false', multiLine 'true', escape '\"', mode 'FAILFAST')", abridge_sql_log=True) -%}
        {%- set sql -%}
            insert into {{ this.render() }} select
            {% for col_name in agate_table.column_names -%}
                {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                cast(`{{ col_name }}` as {{ type }}){% if not loop.last %}, {% endif %}
            {%- endfor %}
            from {{ view }}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {{ return(sql) }}
    {%- endif -%}
    {%- set batch_size = get_batch_size() -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    {%- set value = row[loop.index0] -%}
                    cast({{ spark_seed_literal(value) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- one seed cell as a Spark SQL literal -#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is sameas true -%}true
    {%- elif value is sameas false -%}false
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ (value | string) | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
