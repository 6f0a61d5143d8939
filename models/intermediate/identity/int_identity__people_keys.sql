{#- People-level keys per record (var identity_sources: people_keys and names): what the
    per-type limits count. An identifier value seen with more distinct keys of one kind
    than its type's max_people is shared by several people and is not used to link. -#}
{%- set sources = identity_sources() %}
{%- set selects = [] %}

with

{% for s in sources if s.people_keys or s.names -%}
{{ s.model }} as (

    select * from {{ ref(s.model) }}

),

{% endfor -%}

keyed as (

    {% for s in sources if s.people_keys or s.names -%}
    {%- set outer_last = loop.last -%}
    {%- set kinds = s.people_keys.items() | list -%}
    {%- if s.names -%}{%- set kinds = kinds + [('name', identity_name_key(s.names[0], s.names[1]))] -%}{%- endif -%}
    {%- for kind, expression in kinds %}
    select
        {{ identity_record_id(s.source_system, s.source_table, s.key) }} as record_id,
        '{{ kind }}' as people_key_kind,
        cast({{ expression }} as {{ dbt.type_string() }}) as people_key
    from {{ s.model }}
    where {{ expression }} is not null
    {% if not (outer_last and loop.last) %}
    union all
    {% endif -%}
    {%- endfor %}
    {% endfor %}

),

final as (

    select distinct record_id, people_key_kind, people_key
    from keyed

)

select * from final
