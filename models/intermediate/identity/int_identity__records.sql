{#- Every identity-bearing staged record, one row each, generated from var identity_sources.
    record_num is a dense integer (ordered by record_id) for the graph algorithms. -#}
{%- set sources = identity_sources() %}

with

{% for s in sources -%}
{{ s.model }} as (

    select * from {{ ref(s.model) }}

),

{% endfor -%}

unioned as (

    {% for s in sources -%}
    select
        {{ identity_record_id(s.source_system, s.source_table, s.key) }} as record_id,
        '{{ s.source_system }}' as source_system,
        '{{ s.source_table }}' as source_table,
        cast({{ s.key }} as {{ dbt.type_string() }}) as record_key,
        cast({{ s.observed_at }} as timestamp) as observed_at,
        {{ 'true' if s.person_record else 'false' }} as is_person_record
    from {{ s.model }}
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

final as (

    select
        record_id,
        row_number() over (order by record_id) - 1 as record_num,
        source_system,
        source_table,
        record_key,
        observed_at,
        is_person_record
    from unioned

)

select * from final
