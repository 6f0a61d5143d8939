{#- Every node with its cluster: the connected component after guards and namespace cuts
    (cluster_num, from int_identity__components). cluster_key = the smallest record id of
    the cluster (deterministic, readable). A cluster is known (gets a customer ID) if it
    holds a person record (account, contact, member, subscriber) or a kept link to a
    usable identifier of a non-anonymous type; otherwise its records are anonymous
    (cookies or devices never linked to a person, or no usable identifier at all) and
    anonymous_reason says why. -#}

with

nodes as (

    select * from {{ ref('int_identity__nodes') }}

),

components as (

    select * from {{ ref('int_identity__components') }}

),

edges as (

    select * from {{ ref('int_identity__edges') }}

),

node_components as (

    select
        nodes.node_sig,
        components.component_num as cluster_num,
        nodes.source_system,
        nodes.source_table,
        nodes.first_record_id,
        nodes.is_person_record,
        nodes.n_records,
        nodes.first_observed_at,
        nodes.last_observed_at,
        coalesce(
            {% for t in identity_type_names() %}nodes.id_{{ t }}{% if not loop.last %},
            {% endif %}{% endfor %}
        ) is not null
            as has_identifier
    from nodes
    inner join components
        on nodes.node_sig = components.node_sig
        and not components.is_cut_link

),

cut_links as (

    select
        node_sig,
        identifier_sig
    from components
    where is_cut_link

),

node_edges as (

    select
        edges.node_sig,
        bool_or(not edges.is_anonymous_type and cut_links.node_sig is null)
            as has_personal_identifier
    from edges
    left join cut_links
        on edges.node_sig = cut_links.node_sig
        and edges.identifier_sig = cut_links.identifier_sig
    group by edges.node_sig

),

flagged as (

    select
        node_components.*,
        node_edges.node_sig is not null as has_usable_identifier,
        coalesce(node_edges.has_personal_identifier, false) as has_personal_identifier
    from node_components
    left join node_edges
        on node_components.node_sig = node_edges.node_sig

),

cluster_flags as (

    select
        cluster_num,
        min(first_record_id) as cluster_key,
        bool_or(is_person_record or has_personal_identifier) as is_known,
        cast(sum(n_records) as {{ dbt.type_bigint() }}) as cluster_records
    from flagged
    group by cluster_num

),

final as (

    select
        flagged.node_sig,
        flagged.cluster_num,
        cluster_flags.cluster_key,
        flagged.source_system,
        flagged.source_table,
        flagged.is_person_record,
        flagged.n_records,
        flagged.first_observed_at,
        flagged.last_observed_at,
        cluster_flags.cluster_records,
        cluster_flags.is_known,
        case
            when cluster_flags.is_known then null
            when not flagged.has_identifier then 'no identifier'
            when not flagged.has_usable_identifier then 'only excluded identifiers'
            else 'only anonymous identifiers (cookie/device never linked to a person)'
        end as anonymous_reason
    from flagged
    inner join cluster_flags
        on flagged.cluster_num = cluster_flags.cluster_num

)

select * from final
