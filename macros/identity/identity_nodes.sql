{#- Identity nodes (docs/identity.md, "Nodes"): records of one source with the same
    identifier values and people-level keys are the same vertex of the identity graph,
    so the graph holds one node per distinct signature instead of one per record (a
    cookie's 10 page views are one node; an account, contact or member is always a node
    of its own). These macros render the signature columns once, for the models that
    build the nodes and the ones that map records back to them. -#}

{#- Identifier types (var identity_identifier_types), in declaration order. -#}
{% macro identity_type_names() -%}
    {{ return(identity_identifier_types().keys() | list) }}
{%- endmacro %}

{#- People-key kinds (var identity_people_key_kinds, in declaration order): project-wide,
    like the identifier types; identity_sources() checks every source's people_keys (and
    `name`, for sources with names) against them. -#}
{% macro identity_people_kinds() -%}
    {{ return(var('identity_people_key_kinds') | list) }}
{%- endmacro %}

{#- The signature columns of a node, in a fixed order: node_key (the record key for
    person records and for records without any identifier, else null), one id_<type>
    per identifier type and one pk_<kind> per people-key kind. -#}
{% macro identity_node_columns() -%}
    {%- set columns = ['node_key'] -%}
    {%- for t in identity_type_names() %}{% do columns.append('id_' ~ t) %}{% endfor -%}
    {%- for k in identity_people_kinds() %}{% do columns.append('pk_' ~ k) %}{% endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The signature columns source `s` can fill (the others are always null for it). -#}
{% macro identity_source_node_columns(s) -%}
    {%- set columns = ['node_key'] -%}
    {%- for t in identity_type_names() if t in s.identifiers %}{% do columns.append('id_' ~ t) %}{% endfor -%}
    {%- for k in identity_people_kinds() -%}
        {%- if k in s.people_keys or (k == 'name' and s.names) %}{% do columns.append('pk_' ~ k) %}{% endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- One row per record of source `s` (position `index` in var identity_source_models):
    source_index, record_key, observed_at and the signature columns. Identifier values
    are trimmed staged values; blanks count as absent (as in int_identity__identifiers).
    `extra` ({alias: expression over the staging model's columns}) adds columns in the
    same scan (the probabilistic tier's attributes: one pass over the staging view). -#}
{% macro identity_source_records(s, index, extra={}) -%}
    {%- set types = identity_type_names() -%}
    {%- set kinds = identity_people_kinds() -%}
    select
        {{ index }} as source_index,
        record_key,
        observed_at,
        case
            when {{ 'true' if s.person_record else 'false' }}
                or coalesce({% for t in types %}id_{{ t }}{% if not loop.last %}, {% endif %}{% endfor %}) is null
                then record_key
        end as node_key,
        {%- for t in types %}
        id_{{ t }},
        {%- endfor %}
        {%- for k in kinds %}
        pk_{{ k }}{% if not loop.last or extra %},{% endif %}
        {%- endfor %}
        {%- for alias in extra %}
        {{ alias }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from (
        select
            {%- for alias, expression in extra.items() %}
            {{ expression }} as {{ alias }},
            {%- endfor %}
            cast({{ s.key }} as {{ dbt.type_string() }}) as record_key,
            cast({{ s.observed_at }} as timestamp) as observed_at,
            {%- for t in types %}
            {%- if t in s.identifiers %}
            {{ identity_known_reference(s, s.identifiers[t], "nullif(trim(cast(" ~ s.identifiers[t] ~ " as " ~ dbt.type_string() ~ ")), '')") }} as id_{{ t }},
            {%- else %}
            cast(null as {{ dbt.type_string() }}) as id_{{ t }},
            {%- endif %}
            {%- endfor %}
            {%- for k in kinds %}
            {%- if k in s.people_keys %}
            {{ identity_known_reference(s, s.people_keys[k], "cast(" ~ s.people_keys[k] ~ " as " ~ dbt.type_string() ~ ")") }} as pk_{{ k }}
            {%- elif k == 'name' and s.names %}
            cast({{ identity_name_key(s.names[0], s.names[1]) }} as {{ dbt.type_string() }}) as pk_{{ k }}
            {%- else %}
            cast(null as {{ dbt.type_string() }}) as pk_{{ k }}
            {%- endif %}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ ref(s.model) }}
    ) as typed
{%- endmacro %}

{#- `expression` (a value of `column` of source `s`), or null when `column` is declared in
    s.references and the value is not a key of the referenced identity source's staged
    records: an order or web event naming an unknown shop account must not mint a
    phantom customer, nor count as a second person for the e-mail it carries. -#}
{% macro identity_known_reference(s, column, expression) -%}
    {%- set target = s.references.get(column) if s.references else none -%}
    {%- if target is none -%}
        {{ expression }}
    {%- else -%}
        {%- set referenced = identity_sources() | selectattr('model', 'equalto', target) | list -%}
        {%- if not referenced -%}
            {{ exceptions.raise_compiler_error(s.model ~ ": config.meta.identity.references names " ~ target ~ ", which is not an identity source") }}
        {%- endif -%}
        case when {{ column }} in (
            select known.{{ referenced[0].key }} from {{ ref(target) }} as known
        ) then {{ expression }} end
    {%- endif -%}
{%- endmacro %}

{#- A 64-bit hash of the given columns (nulls included): the join key from records to
    their node. int_identity__components fails the build if two signatures ever share one. -#}
{% macro identity_signature_hash(columns) -%}
    {{ return(adapter.dispatch('identity_signature_hash', 'customer360')(columns)) }}
{%- endmacro %}

{% macro default__identity_signature_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__identity_signature_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{#- `name as {{ identity_inline() }} (...)`: DuckDB materialises a CTE that is read more
    than once (spilling a copy of a wide table to disk); an import CTE read by every branch
    of a union is cheaper inlined. Other engines: plain CTE. -#}
{% macro identity_inline() -%}
    {{ return(adapter.dispatch('identity_inline', 'customer360')()) }}
{%- endmacro %}

{% macro default__identity_inline() -%}{%- endmacro %}

{% macro duckdb__identity_inline() -%}not materialized{%- endmacro %}
