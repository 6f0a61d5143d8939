{#-
    The pseudonymised analyst layer (models/analyst, docs/privacy.md). Every column of
    every model carries meta.pii in its YAML:
      none          not about a person, or aggregated (kept);
      pseudonymous  the customer ID and other keys that identify nobody without the
                    restricted build DB (kept);
      quasi         could single a person out in combination: postal code, birth date,
                    free text (dropped unless meta.analyst says otherwise);
      direct        identifies a person on its own: e-mail, phone, name, address, source
                    account ids, cookie/device ids (replaced by `<column>_hmac`, the keyed
                    HMAC-SHA256 of the normalised value, unless meta.analyst says drop).
    meta.analyst overrides the default treatment: keep | hmac | drop | year.
    A column without a tag is dropped (fail closed) with a warning, and
    test_privacy.py fails on untagged columns.
-#}

{#- the treatment of one column: (action, output name) -#}
{% macro analyst_column_treatment(column_name, column_meta) -%}
    {%- set level = column_meta.get('pii') -%}
    {%- set default_action = {'none': 'keep', 'pseudonymous': 'keep', 'quasi': 'drop', 'direct': 'hmac'}.get(level, 'drop') -%}
    {%- set action = column_meta.get('analyst', default_action) -%}
    {%- if action == 'hmac' -%}
        {{ return(['hmac', column_name ~ '_hmac']) }}
    {%- elif action == 'year' -%}
        {{ return(['year', column_name | replace('_date', '') ~ '_year']) }}
    {%- else -%}
        {{ return([action, column_name]) }}
    {%- endif -%}
{%- endmacro %}

{#- column name -> meta of a model, from its YAML (lower-cased names) -#}
{% macro model_column_meta(model_name) -%}
    {%- set out = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {%- for name, col in node.columns.items() -%}
            {%- set meta = {} -%}
            {%- do meta.update(col.get('meta') or {}) -%}
            {%- do meta.update((col.get('config') or {}).get('meta') or {}) -%}
            {%- do out.update({name | lower: meta}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- select the analyst-safe form of every column of mart `model_name`; `where` (SQL over
    the mart's columns) leaves rows out of the published copy -#}
{% macro analyst_safe_select(model_name, where=none) -%}
    {%- set relation = ref(model_name) -%}
    {%- if not execute or load_relation(relation) is none -%}
    {#- parsing, or compiling without a built mart (e.g. sqlfluff's :memory: target): the
        select is never run there; at run time the mart exists and is classified -#}
    select * from {{ relation }} where 1 = 0
    {%- else -%}
        {%- set metas = model_column_meta(model_name) -%}
        {%- set columns = adapter.get_columns_in_relation(relation) -%}
        {%- set items = [] -%}
        {%- for column in columns -%}
            {%- set name = column.name | lower -%}
            {%- if name not in metas or 'pii' not in metas[name] -%}
                {%- do log("analyst layer: " ~ model_name ~ "." ~ name ~ " has no meta.pii tag and is left out", info=true) -%}
            {%- else -%}
                {%- set action, alias = analyst_column_treatment(name, metas[name]) -%}
                {%- if action == 'keep' -%}
                    {%- do items.append(adapter.quote(column.name) ~ ' as ' ~ adapter.quote(alias)) -%}
                {%- elif action == 'hmac' -%}
                    {%- do items.append(hmac_sha256(adapter.quote(column.name)) ~ ' as ' ~ adapter.quote(alias)) -%}
                {%- elif action == 'year' -%}
                    {%- do items.append('cast(extract(year from ' ~ adapter.quote(column.name) ~ ') as integer) as ' ~ adapter.quote(alias)) -%}
                {%- elif action != 'drop' -%}
                    {{ exceptions.raise_compiler_error("meta.analyst of " ~ model_name ~ "." ~ name ~ " must be keep, hmac, drop or year, not " ~ action) }}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not items -%}
            {{ exceptions.raise_compiler_error("analyst layer: no column of " ~ model_name ~ " is tagged analyst-safe (meta.pii)") }}
        {%- endif -%}
    select
        {{ items | join(',\n        ') }}
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- post-hook: each analyst column gets the description of its mart column (and says
    how it was pseudonymised), so analysts see docs inside DuckDB -#}
{% macro analyst_column_comments(model_name) -%}
    {%- if not execute or target.type != 'duckdb' -%}{{ return('select 1') }}{%- endif -%}
    {%- set statements = [] -%}
    {%- set present = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}{%- do present.append(column.name | lower) -%}{%- endfor -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {%- for name, col in node.columns.items() -%}
            {%- set meta = {} -%}
            {%- do meta.update(col.get('meta') or {}) -%}
            {%- do meta.update((col.get('config') or {}).get('meta') or {}) -%}
            {%- if 'pii' in meta -%}
                {%- set action, alias = analyst_column_treatment(name | lower, meta) -%}
                {%- if action != 'drop' and alias in present -%}
                    {%- set note = {'hmac': ' [HMAC-SHA256 pseudonym of the normalised value]', 'year': ' [coarsened to the year]'}.get(action, '') -%}
                    {%- do statements.append("comment on column " ~ this ~ "." ~ adapter.quote(alias) ~ " is '" ~ (((col.description or '') ~ note) | replace("'", "''") | trim) ~ "'") -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(statements | join(';\n') if statements else 'select 1') }}
{%- endmacro %}
