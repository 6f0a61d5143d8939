{#- The person records the probabilistic tier compares, one row each, in its standard
    attributes (macro identity_probabilistic_attribute), with the graph node they are
    (node_sig: the hash int_identity__nodes is keyed on; a person record is a node of its
    own). Sources take part by declaring `probabilistic: {attribute: column}` in their
    config.meta.identity; records without any name are left out (nothing to compare). -#}
{%- set sources = identity_probabilistic_sources() %}
{%- set attrs = [
    'first_name', 'last_name', 'birth_date', 'street', 'postcode', 'city', 'email', 'phone', 'id_number',
] %}
{%- set aliases = {} %}
{%- for a in attrs %}{% do aliases.update({a: 'email_local' if a == 'email' else a}) %}{% endfor %}

with

{% for s in sources -%}
{%- set extra = {} %}
{%- for a in attrs %}{% do extra.update({aliases[a]: identity_probabilistic_attribute(s, a)}) %}{% endfor %}
-- one pass over the staging model: the node signature and the attributes together
{{ s.model }}_records as (

    select
        record_key,
        {{ identity_signature_hash(['source_index'] + identity_node_columns()) }} as node_sig,
        {%- for a in attrs %}
        {{ aliases[a] }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from (
        {{ identity_source_records(s, s.index, extra) | indent(8) }}
    ) as source_records
    where record_key is not null

),

{% endfor -%}

unioned as (

    {% for s in sources -%}
    select
        {{ identity_record_id(s.source_system, s.source_table, 'record_key') }} as record_id,
        '{{ s.source_system }}' as source_system,
        '{{ s.source_table }}' as source_table,
        record_key,
        node_sig,
        {%- for a in attrs %}
        {{ aliases[a] }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ s.model }}_records
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
        cast(null as {{ dbt.type_string() }}) as {{ aliases[a] }}{% if not loop.last %},{% endif %}
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
