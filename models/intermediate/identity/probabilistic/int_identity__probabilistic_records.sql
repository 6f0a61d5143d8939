{#- The person records the probabilistic tier compares, one row each, in its standard
    attributes (macro identity_probabilistic_attribute), with the graph node they are
    (node_sig: the hash int_identity__nodes is keyed on; a person record is a node of its
    own). Sources take part by declaring `probabilistic: {attribute: column}` in their
    config.meta.identity; records without any name are left out (nothing to compare). -#}
{%- set sources = identity_probabilistic_sources() %}
{%- set attrs = [
    'first_name', 'last_name', 'birth_date', 'street', 'postcode', 'city', 'email', 'phone', 'id_number',
] %}

with

{% for s in sources -%}
{{ s.model }}_nodes as (

    select
        record_key,
        {{ identity_signature_hash(['source_index'] + identity_node_columns()) }} as node_sig
    from (
        {{ identity_source_records(s, s.index) | indent(8) }}
    ) as source_records

),

{{ s.model }}_attributes as (

    select
        cast({{ s.key }} as {{ dbt.type_string() }}) as record_key,
        {%- for a in attrs %}
        {%- set alias = 'email_local' if a == 'email' else a %}
        {{ identity_probabilistic_attribute(s, a) }} as {{ alias }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref(s.model) }}

),

{% endfor -%}

unioned as (

    {% for s in sources -%}
    select
        {{ identity_record_id(s.source_system, s.source_table, s.model ~ '_attributes.record_key') }} as record_id,
        '{{ s.source_system }}' as source_system,
        '{{ s.source_table }}' as source_table,
        {{ s.model }}_attributes.record_key,
        {{ s.model }}_nodes.node_sig,
        {%- for a in attrs %}
        {{ s.model }}_attributes.{{ 'email_local' if a == 'email' else a }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ s.model }}_attributes
    inner join {{ s.model }}_nodes
        on {{ s.model }}_attributes.record_key = {{ s.model }}_nodes.record_key
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}
    {%- if not sources %}
    select
        cast(null as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as ubigint) as node_sig,
        {%- for a in attrs %}
        cast(null as {{ dbt.type_string() }}) as {{ 'email_local' if a == 'email' else a }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    where false
    {%- endif %}

),

final as (

    select *
    from unioned
    where first_name is not null or last_name is not null

)

select * from final
