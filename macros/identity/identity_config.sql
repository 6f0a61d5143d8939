{#- Accessors for the identity declaration: identifier types and settings are project vars
    (dbt_project.yml, identity_*); what each source holds is declared beside its staging
    model, as `config.meta.identity` in the staging folder's _<system>__models.yml. -#}

{#- The identity sources, in the order of var identity_source_models (position =
    source_index), each a dict: model, source_system, source_table (from the name
    stg_<system>__<table> unless declared), key, observed_at, person_record (default
    false), people_keys ({kind: column}, default {}), names ([first, last] or none),
    identifiers ({identifier type: column}), probabilistic ({attribute: column} for the
    probabilistic tier, or none: macros/identity/identity_probabilistic.sql), references
    ({column: identity source model}: a value of the column that is not a key of that
    model's staged records is an unknown reference: not used as identifier or people key,
    listed in identity_audit). Read from the graph when dbt executes; while
    it parses (YAML not read yet) every listed model is returned with every feature
    switched on, so that each ref() a model could need is recorded. -#}
{% macro identity_sources() -%}
    {%- set names = var('identity_source_models') -%}
    {%- set sources = [] -%}
    {%- if not execute or graph.get('nodes') is none -%}
        {#- parsing, or a unit test (whose graph holds no nodes) -#}
        {%- for name in names -%}
            {%- set parts = name[4:].split('__') if name.startswith('stg_') else [name, name] -%}
            {%- do sources.append({
                'model': name, 'source_system': parts[0], 'source_table': parts[-1],
                'key': 'null', 'observed_at': 'null', 'person_record': true,
                'people_keys': {}, 'names': ['null', 'null'], 'identifiers': {},
                'probabilistic': none,
                'references': {},
            }) -%}
        {%- endfor -%}
        {{ return(sources) }}
    {%- endif -%}
    {%- set declared = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- set meta = {} -%}
        {%- do meta.update(node.meta or {}) -%}
        {%- do meta.update(node.config.get('meta') or {}) -%}
        {%- if meta.get('identity') is not none -%}
            {%- do declared.update({node.name: meta['identity']}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in declared if name not in names -%}
        {{ exceptions.raise_compiler_error(
            name ~ " declares config.meta.identity but is not in var identity_source_models "
            ~ "(dbt_project.yml): add it there so that the identity models depend on it") }}
    {%- endfor -%}
    {%- set types = identity_identifier_types() -%}
    {%- for name in names -%}
        {%- if name not in declared -%}
            {{ exceptions.raise_compiler_error(
                "var identity_source_models lists " ~ name ~ ", but its YAML has no "
                ~ "config.meta.identity (key, observed_at, identifiers, ...)") }}
        {%- endif -%}
        {%- set d = declared[name] -%}
        {%- for required in ['key', 'observed_at', 'identifiers'] if not d.get(required) -%}
            {{ exceptions.raise_compiler_error(
                name ~ ": config.meta.identity." ~ required ~ " is missing or empty") }}
        {%- endfor -%}
        {%- for t in d['identifiers'] if t not in types -%}
            {{ exceptions.raise_compiler_error(
                name ~ ": config.meta.identity.identifiers names identifier type '" ~ t
                ~ "', which var identity_identifier_types does not declare") }}
        {%- endfor -%}
        {%- set kinds = var('identity_people_key_kinds') -%}
        {%- for kind in (d.get('people_keys') or {}).keys() | list + (['name'] if d.get('names') else [])
            if kind not in kinds -%}
            {{ exceptions.raise_compiler_error(
                name ~ ": config.meta.identity uses people-key kind '" ~ kind
                ~ "', which var identity_people_key_kinds does not declare") }}
        {%- endfor -%}
        {%- set parts = name[4:].split('__') if name.startswith('stg_') else [name, name] -%}
        {%- do sources.append({
            'model': name,
            'source_system': d.get('source_system', parts[0]),
            'source_table': d.get('source_table', parts[-1]),
            'key': d['key'],
            'observed_at': d['observed_at'],
            'person_record': d.get('person_record', false),
            'people_keys': d.get('people_keys') or {},
            'names': d.get('names'),
            'identifiers': d['identifiers'],
            'probabilistic': d.get('probabilistic'),
            'references': d.get('references') or {},
        }) -%}
    {%- endfor -%}
    {{ return(sources) }}
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
