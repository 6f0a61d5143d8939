{#-
    check_raw_exports(): the raw-export contract check that plain `dbt build` runs as an
    on-run-start hook, before any model. For every source of this project it looks at
    <raw_path>/<source>/<table>.<raw_format> and fails the run with one message listing
    every missing/empty file and every missing column (with the expected contract);
    extra columns are logged as warnings and ignored. Returns the SQL the hook runs.
    `customer360 check-raw` (python/customer360/quality.py) does the same and more
    (encoding, corrupt files, row counts); this is the guard for users who call dbt
    directly. Switch off with --vars '{check_raw_exports: false}'.
-#}
{% macro check_raw_exports() -%}
    {{ return(adapter.dispatch('check_raw_exports', 'customer360')()) }}
{%- endmacro %}

{% macro default__check_raw_exports() -%}
    {#- engines without file globbing (e.g. Spark reading tables) skip the file check -#}
    select 1 as raw_exports_not_checked
{%- endmacro %}

{% macro duckdb__check_raw_exports() -%}
    {%- if execute and var('check_raw_exports', true) -%}
        {%- set raw_path = var('raw_path') -%}
        {%- set fmt = var('raw_format') -%}
        {%- set errors = [] -%}
        {%- set sources = graph.sources.values() | selectattr('package_name', 'equalto', project_name) | list -%}
        {%- for node in sources | sort(attribute='unique_id') -%}
            {%- set path = raw_path ~ '/' ~ node.source_name ~ '/' ~ node.name ~ '.' ~ fmt -%}
            {%- set table = node.source_name ~ '.' ~ node.name -%}
            {%- set expected = raw_export_contract(node) -%}
            {%- set found = run_query("select coalesce(max(size), -1) as size from read_blob('" ~ path ~ "')") if raw_file_exists(path) else none -%}
            {%- if found is none -%}
                {%- do errors.append(table ~ ": file " ~ path ~ " is missing; expected contract: " ~ expected) -%}
            {%- elif found.columns[0].values()[0] == 0 -%}
                {%- do errors.append(table ~ ": file " ~ path ~ " is empty (0 bytes); expected contract: " ~ expected) -%}
            {%- else -%}
                {%- set described = run_query("describe select * from " ~ raw_file_reader(path, fmt)) -%}
                {%- set actual = described.columns[0].values() | map('lower') | list -%}
                {%- set declared = node.columns.keys() | map('lower') | list -%}
                {%- for column in node.columns.values() -%}
                    {%- if column.name | lower not in actual -%}
                        {%- set kind = 'required' if raw_column_is_required(column) else 'optional' -%}
                        {%- do errors.append(table ~ ": " ~ kind ~ " column '" ~ column.name ~ "' is missing in " ~ path ~ " (columns in file: " ~ (actual | join(', ')) ~ "); expected contract: " ~ expected) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- for name in actual if name not in declared -%}
                    {%- do exceptions.warn("customer360: " ~ table ~ ": extra column '" ~ name ~ "' in " ~ path ~ " is not in the contract; ignored") -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if errors -%}
            {%- do exceptions.raise_compiler_error("raw exports break the contract (run `customer360 check-raw` for details):\n  - " ~ (errors | join("\n  - "))) -%}
        {%- endif -%}
        {%- do log("customer360: " ~ (sources | length) ~ " raw exports match the contract (" ~ fmt ~ ", " ~ raw_path ~ ")", info=true) -%}
    {%- endif -%}
    select 1 as raw_exports_checked
{%- endmacro %}

{#- Spark: every source table of the contract (the generated _<system>__sources.yml) is
    registered as an external table <system>.<table> over its file (Parquet, or CSV with a
    header and every column a string, as DuckDB reads it), then its columns are compared
    with the contract as on DuckDB. A missing file fails at registration with Spark's
    message naming the path. Registration is needed for the build, so it runs even with
    check_raw_exports: false (only the column check is skipped). -#}
{% macro spark__check_raw_exports() -%}
    {%- if execute -%}
        {%- set raw_path = var('raw_path') -%}
        {%- set fmt = var('raw_format') -%}
        {%- set errors = [] -%}
        {%- set sources = graph.sources.values() | selectattr('package_name', 'equalto', project_name) | list -%}
        {%- for node in sources | sort(attribute='unique_id') -%}
            {%- set path = raw_path ~ '/' ~ node.source_name ~ '/' ~ node.name ~ '.' ~ fmt -%}
            {%- set table = node.schema ~ '.' ~ node.identifier -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- do run_query('drop table if exists ' ~ table) -%}
            {%- if fmt == 'csv' -%}
                {%- do run_query("create table " ~ table ~ " using csv options (path '" ~ path ~ "', header 'true', inferSchema 'false', multiLine 'true', escape '\"', mode 'FAILFAST')") -%}
            {%- else -%}
                {%- do run_query("create table " ~ table ~ " using parquet options (path '" ~ path ~ "')") -%}
            {%- endif -%}
            {%- if var('check_raw_exports', true) -%}
                {%- set actual = adapter.get_columns_in_relation(api.Relation.create(schema=node.schema, identifier=node.identifier)) | map(attribute='name') | map('lower') | list -%}
                {%- set declared = node.columns.keys() | map('lower') | list -%}
                {%- set expected = raw_export_contract(node) -%}
                {%- for column in node.columns.values() -%}
                    {%- if column.name | lower not in actual -%}
                        {%- set kind = 'required' if raw_column_is_required(column) else 'optional' -%}
                        {%- do errors.append(node.source_name ~ '.' ~ node.name ~ ": " ~ kind ~ " column '" ~ column.name ~ "' is missing in " ~ path ~ " (columns in file: " ~ (actual | join(', ')) ~ "); expected contract: " ~ expected) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- for name in actual if name not in declared -%}
                    {%- do exceptions.warn("customer360: " ~ node.source_name ~ '.' ~ node.name ~ ": extra column '" ~ name ~ "' in " ~ path ~ " is not in the contract; ignored") -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if errors -%}
            {%- do exceptions.raise_compiler_error("raw exports break the contract (run `customer360 check-raw` for details):\n  - " ~ (errors | join("\n  - "))) -%}
        {%- endif -%}
        {%- do log("customer360: " ~ (sources | length) ~ " raw exports registered as Spark tables" ~ (" and match the contract" if var('check_raw_exports', true) else "") ~ " (" ~ fmt ~ ", " ~ raw_path ~ ")", info=true) -%}
    {%- endif -%}
    select 1 as raw_exports_checked
{%- endmacro %}

{#- true when the file exists (DuckDB glob of the exact path) -#}
{% macro raw_file_exists(path) -%}
    {%- set result = run_query("select count(*) from glob('" ~ path ~ "')") -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- the table function that reads a raw file, as the sources' external_location does -#}
{% macro raw_file_reader(path, fmt) -%}
    {%- if fmt == 'csv' -%}
        read_csv('{{ path }}', header=true, all_varchar=true)
    {%- else -%}
        read_parquet('{{ path }}')
    {%- endif -%}
{%- endmacro %}

{#- meta.required of a source column (column config or legacy meta); default true -#}
{% macro raw_column_is_required(column) -%}
    {%- set meta = (column.config.meta if column.config is defined and column.config.meta else column.meta) or {} -%}
    {{ return(meta.get('required', true)) }}
{%- endmacro %}

{#- "required: a varchar, b timestamp; optional: c varchar" for one source table -#}
{% macro raw_export_contract(node) -%}
    {%- set required = [] -%}
    {%- set optional = [] -%}
    {%- for column in node.columns.values() -%}
        {%- set entry = column.name ~ ' ' ~ (column.data_type or '') -%}
        {%- do (required if raw_column_is_required(column) else optional).append(entry | trim) -%}
    {%- endfor -%}
    {{ return('required: ' ~ (required | join(', ')) ~ ((('; optional: ' ~ (optional | join(', '))) if optional else ''))) }}
{%- endmacro %}
