{#-
    check_raw_exports(): the raw-export contract check that plain `dbt build` runs as an
    on-run-start hook, before any model. For every source of this project it looks at
    <raw_path>/<source>/<table>.<raw_format> and fails the run with one message listing
    every missing/empty file and every missing column (with the expected contract);
    extra columns are logged as warnings and ignored. Returns the SQL the hook runs.
    `customer360 check-raw` (python/customer360/raw_contract_check.py) does the same and more
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
        {%- set sources = [] -%}
        {%- set absent = [] -%}
        {%- for node in graph.sources.values() | selectattr('package_name', 'equalto', project_name) -%}
            {%- if raw_table_declared(node.source_name, node.name) -%}
                {%- do sources.append(node) -%}
            {%- else -%}
                {%- do absent.append(node.source_name ~ '.' ~ node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for node in sources | sort(attribute='unique_id') -%}
            {%- set path = raw_path ~ '/' ~ node.source_name ~ '/' ~ node.name ~ '.' ~ fmt -%}
            {%- set table = node.source_name ~ '.' ~ node.name -%}
            {%- set expected = raw_export_contract(node) -%}
            {%- set found = run_query("select coalesce(max(size), -1) as size from read_blob('" ~ (path | replace("'", "''")) ~ "')") if raw_file_exists(path) else none -%}
            {%- if found is none -%}
                {%- do errors.append(table ~ ": file " ~ path ~ " is missing; expected contract: " ~ expected) -%}
            {%- elif found.columns[0].values()[0] == 0 -%}
                {%- do errors.append(table ~ ": file " ~ path ~ " is empty (0 bytes); expected contract: " ~ expected) -%}
            {%- else -%}
                {%- set described = run_query("describe select * from " ~ raw_file_reader(path, fmt)) -%}
                {%- set actual = described.columns[0].values() | map('lower') | list -%}
                {%- set actual_types = described.columns[1].values() | list -%}
                {%- for name in actual -%}
                    {%- set actual_type = actual_types[loop.index0] | upper -%}
                    {%- if actual_type.endswith(']') or actual_type.startswith('STRUCT') or actual_type.startswith('MAP') or actual_type.startswith('UNION') -%}
                        {%- do errors.append(table ~ ": column '" ~ name ~ "' in " ~ path ~ " is " ~ actual_type ~ " (nested): nested values cannot be staged as text; re-export the column as a plain value") -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- set declared = node.columns.keys() | map('lower') | list -%}
                {%- for column in node.columns.values() -%}
                    {%- if column.name | lower not in actual and raw_column_is_omittable(column) -%}
                        {%- do log("customer360: " ~ table ~ ": optional column '" ~ column.name ~ "' is not in " ~ path ~ ": read as empty", info=true) -%}
                    {%- elif column.name | lower not in actual -%}
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
        {%- if absent -%}
            {%- do log("customer360: not declared in var `systems` (read as empty): " ~ (absent | join(', ')), info=true) -%}
        {%- endif -%}
    {%- endif -%}
    select 1 as raw_exports_checked
{%- endmacro %}

{#-
    raw_table_declared(system, table): the project config declares this raw table (var
    `systems`: {system: [table, ...] or 'all'}; unset = every table). An undeclared table's
    source reads as an empty relation (scripts/generate_sources_yaml.py), its file is
    never opened.
-#}
{% macro raw_table_declared(system, table) -%}
    {%- set systems = var('systems', none) -%}
    {%- if systems is none -%}{{ return(true) }}{%- endif -%}
    {%- set tables = systems.get(system) -%}
    {{ return(tables == 'all' or (tables is not none and table in tables)) }}
{%- endmacro %}

{#- true when the file exists (DuckDB glob of the exact path) -#}
{% macro raw_file_exists(path) -%}
    {%- set result = run_query("select count(*) from glob('" ~ (path | replace("'", "''")) ~ "')") -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- raw_file_reader(path, fmt): generated from python/customer360/raw_reader.py (macros/quality/raw_reader.sql) -#}

{#- meta.required of a source column (column config or legacy meta); default true -#}
{% macro raw_column_is_required(column) -%}
    {%- set meta = (column.config.meta if column.config is defined and column.config.meta else column.meta) or {} -%}
    {{ return(meta.get('required', true)) }}
{%- endmacro %}

{#- raw_column_is_omittable(column): a column added to the contract later, which a file may
    leave out of its header (the source reads it as null: contracts.Column.omittable) -#}
{% macro raw_column_is_omittable(column) -%}
    {%- set meta = (column.config.meta if column.config is defined and column.config.meta else column.meta) or {} -%}
    {{ return(meta.get('omittable', false)) }}
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
