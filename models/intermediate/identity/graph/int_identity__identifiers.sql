{{ config(materialized='view') }}
{#- Every identifier observed on every identity-bearing record, long form, generated from
    var identity_sources (identifier type -> staged column). Values are already normalised
    by staging (normalize_email, normalize_phone, ...); empty strings count as absent. -#}
{%- set sources = identity_sources() %}

with

{% for s in sources -%}
{{ s.model }} as (

    select * from {{ ref(s.model) }}

),

{% endfor -%}

observed as (

    {% for s in sources -%}
    {%- set outer_last = loop.last -%}
    {%- for identifier_type, column in s.identifiers.items() %}
    select
        {{ identity_record_id(s.source_system, s.source_table, s.key) }} as record_id,
        '{{ s.source_system }}' as source_system,
        '{{ s.source_table }}' as source_table,
        cast({{ s.key }} as {{ dbt.type_string() }}) as record_key,
        '{{ identifier_type }}' as identifier_type,
        trim(cast({{ column }} as {{ dbt.type_string() }})) as identifier_value,
        cast({{ s.observed_at }} as timestamp) as observed_at
    from {{ s.model }}
    where {{ column }} is not null
        and trim(cast({{ column }} as {{ dbt.type_string() }})) <> ''
        {%- if s.references and column in s.references %}
        -- an unknown account is no identifier (int_identity__rejected_identifiers)
        and coalesce({{ identity_known_reference(s, column, 'true') }}, false)
        {%- endif %}
    {% if not (outer_last and loop.last) %}
    union all
    {% endif -%}
    {%- endfor %}
    {% endfor %}

),

final as (

    -- no distinct needed: a source maps each identifier type to one column
    select
        record_id,
        source_system,
        source_table,
        record_key,
        identifier_type,
        identifier_value,
        observed_at
    from observed

)

select * from final
