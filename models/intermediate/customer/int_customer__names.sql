{#- The name of each customer: from the most trusted source system that has one (var
    identity_name_source_priority; others after it), latest record first, then the
    smaller record id. Candidates: the person records of every identity source that
    declares names (config.meta.identity.names). -#}
{%- set sources = identity_sources() %}
{%- set priority = var('identity_name_source_priority') %}
{%- set rank_cases = [] %}
{%- for system in priority %}{% do rank_cases.append("when '" ~ system ~ "' then " ~ loop.index) %}{% endfor %}
{%- set source_rank = 'case source_system ' ~ rank_cases | join(' ') ~ ' else ' ~ (priority | length + 1) ~ ' end' %}

with

{% for s in sources if s.names and s.person_record -%}
{{ s.model }} as (

    select * from {{ ref(s.model) }}

),

{{ s.model }}_customers as (

    {{ customer_of_records(s.source_system, s.source_table, key_as='record_key') }}

),

{% endfor -%}

candidates as (

    {% for s in sources if s.names and s.person_record -%}
    select
        {{ s.model }}_customers.customer_id,
        {{ identity_record_id(s.source_system, s.source_table, s.model ~ '.' ~ s.key) }} as record_id,
        '{{ s.source_system }}' as source_system,
        {{ s.model }}.first_name,
        {{ s.model }}.last_name,
        cast({{ s.model }}.{{ s.observed_at }} as timestamp) as observed_at
    from {{ s.model }}
    inner join {{ s.model }}_customers
        on cast({{ s.model }}.{{ s.key }} as {{ dbt.type_string() }}) = {{ s.model }}_customers.record_key
    where {{ s.model }}.first_name is not null or {{ s.model }}.last_name is not null
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

final as (

    {{ survivorship_pick(
        'candidates',
        partition_by='customer_id',
        order_by=source_rank ~ ', observed_at desc, record_id asc',
        columns=['customer_id', 'first_name', 'last_name', 'source_system as name_source_system'],
    ) | indent(4) }}

)

select * from final
