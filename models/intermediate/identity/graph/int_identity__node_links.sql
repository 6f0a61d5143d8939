{#- Per node, which of its identifiers link its records to other records of their
    customer: usable, not cut, and carried by at least one other record. A node holds one
    value per identifier type, so one flag per type says it all (links_<type>);
    customer_source_map spells the values out from each record's own columns. -#}
{%- set types = identity_type_names() | sort %}

with

edges as (

    select * from {{ ref('int_identity__edges') }}

),

cut_links as (

    select
        node_sig,
        identifier_sig
    from {{ ref('int_identity__components') }}
    where is_cut_link

),

kept_edges as (

    select edges.*
    from edges
    left join cut_links
        on edges.node_sig = cut_links.node_sig
        and edges.identifier_sig = cut_links.identifier_sig
    where cut_links.node_sig is null

),

shared_identifiers as (

    select identifier_sig
    from kept_edges
    group by identifier_sig
    having sum(n_records) > 1

),

linking_types as (

    select
        kept_edges.node_sig,
        {%- for t in types %}
        bool_or(kept_edges.identifier_type = '{{ t }}') as links_{{ t }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from kept_edges
    inner join shared_identifiers
        on kept_edges.identifier_sig = shared_identifiers.identifier_sig
    group by kept_edges.node_sig

),

final as (

    select
        node_sig,
        concat_ws(
            ','
            {%- for t in types %},
            case when links_{{ t }} then '{{ t }}' end
            {%- endfor %}
        ) as linked_by_identifier_types,
        {%- for t in types %}
        links_{{ t }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from linking_types

)

select * from final
