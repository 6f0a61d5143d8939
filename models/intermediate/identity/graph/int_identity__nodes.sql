{#- The vertices of the identity graph that stand for records: one row per distinct
    signature (identifier values + people-level keys) within one source, with how many
    staged records share it (macros/identity/identity_nodes.sql). Person records and
    records without any identifier are nodes of their own (node_key = record key); the
    other records of one source collapse when they carry the same values (the page views
    of one cookie, the POS receipts of one card). node_sig, a 64-bit hash of source and
    signature, is the node's key: records compute the same hash (int_identity__records).
    Distinct signatures are one row each, so a repeated node_sig is a hash collision: the
    clustering model (int_identity__components) checks for it before anything is keyed on
    node_sig and fails the build, so a collision can stop a build but never glue two nodes
    together. -#}
{%- set sources = identity_sources() %}
{%- set columns = identity_node_columns() %}

with

{% for s in sources -%}
{%- set present = identity_source_node_columns(s) %}
{{ s.model }}_nodes as (

    {% if s.person_record -%}
    -- person records: one node each, nothing to group
    select
        source_index,
        {{ present | join(',\n        ') }},
        cast(1 as {{ dbt.type_bigint() }}) as n_records,
        observed_at as first_observed_at,
        observed_at as last_observed_at,
        record_key as first_record_key
    from (
        {{ identity_source_records(s, loop.index0) | indent(8) }}
    ) as source_records
    {%- else -%}
    select
        source_index,
        {{ present | join(',\n        ') }},
        count(*) as n_records,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at,
        min(record_key) as first_record_key
    from (
        {{ identity_source_records(s, loop.index0) | indent(8) }}
    ) as source_records
    group by source_index, {{ present | join(', ') }}
    {%- endif %}

),

{% endfor -%}

unioned as (

    {% for s in sources -%}
    {%- set present = identity_source_node_columns(s) %}
    select
        source_index,
        '{{ s.source_system }}' as source_system,
        '{{ s.source_table }}' as source_table,
        {{ 'true' if s.person_record else 'false' }} as is_person_record,
        n_records,
        first_observed_at,
        last_observed_at,
        first_record_key,
        {%- for c in columns %}
        {% if c in present %}{{ c }}{% else %}cast(null as {{ dbt.type_string() }})
            as {{ c }}{% endif %}{% if not loop.last %},
        {% endif %}
        {%- endfor %}
    from {{ s.model }}_nodes
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

signed as (

    select
        {{ identity_signature_hash(['source_index'] + columns) }} as node_sig,
        *
    from unioned

),

final as (

    select
        signed.node_sig,
        signed.source_index,
        signed.source_system,
        signed.source_table,
        {{ identity_record_id_expression(
            'signed.source_system', 'signed.source_table', 'signed.first_record_key'
        ) }} as first_record_id,
        signed.first_record_key,
        signed.is_person_record,
        signed.n_records,
        signed.first_observed_at,
        signed.last_observed_at,
        {{ columns | join(',\n        ') }}
    from signed

)

select * from final
