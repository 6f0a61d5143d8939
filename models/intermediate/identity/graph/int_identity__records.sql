{{ config(materialized='view') }}
{#- Every identity-bearing staged record, one row each, with the node it belongs to
    (node_sig: the same signature hash int_identity__nodes is keyed on). A view: the
    graph works on nodes; the marts that list records (customer_source_map,
    identity_anonymous_records) and the comparison with the previous build read records
    through it. -#}
{%- set sources = identity_sources() %}
{%- set columns = identity_node_columns() %}

with

{% for s in sources -%}
{{ s.model }}_records as (

    {{ identity_source_records(s, loop.index0) | indent(4) }}

),

{% endfor -%}

unioned as (

    {% for s in sources -%}
    select
        {{ identity_record_id(s.source_system, s.source_table, 'record_key') }} as record_id,
        '{{ s.source_system }}' as source_system,
        '{{ s.source_table }}' as source_table,
        record_key,
        observed_at,
        {{ 'true' if s.person_record else 'false' }} as is_person_record,
        {{ identity_signature_hash(['source_index'] + columns) }} as node_sig,
        {%- for t in identity_type_names() %}
        id_{{ t }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ s.model }}_records
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

final as (

    select
        record_id,
        node_sig,
        source_system,
        source_table,
        record_key,
        observed_at,
        is_person_record,
        {%- for t in identity_type_names() %}
        id_{{ t }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from unioned

)

select * from final
