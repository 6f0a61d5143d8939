{#- Audit of the probabilistic tier: every probabilistic link (a scored pair at or above
    the declared match probability, not vetoed) with its weight, probability, the stored
    model version that scored it, the blocking rule that found it, the level and weight
    of every comparison behind it, whether the guards cut it (unique namespace) and the
    customer each record ended in. Restricted (raw record ids; not published). -#}

with

pairs as (

    select * from {{ ref('int_identity__probabilistic_pairs') }}
    where is_link

),

links as (

    select
        record_id_l,
        record_id_r,
        node_sig_l,
        node_sig_r,
        identifier_sig,
        identifier_value
    from {{ ref('int_identity__probabilistic_links') }}

),

cut_links as (

    select
        identifier_sig,
        min(cut_reason) as cut_reason
    from {{ ref('int_identity__components') }}
    where is_cut_link
    group by identifier_sig

),

node_clusters as (

    select
        node_sig,
        cluster_num
    from {{ ref('int_identity__node_clusters') }}
    where is_known

),

assignment as (

    select
        cluster_num,
        customer_id
    from {{ ref('int_identity__id_assignment') }}

),

-- the graph nodes of the linked records (a person record is a node of its own)
link_nodes as (

    select node_sig_l as node_sig from links
    union
    select node_sig_r as node_sig from links

),

-- each linked node's current customer, by the same joins as customer_source_map (record
-- -> node -> known cluster -> ID), over the linked nodes only, not the whole source map (20M rows at 2M people)
node_customers as (

    select
        node_clusters.node_sig,
        assignment.customer_id
    from node_clusters
    inner join link_nodes
        on node_clusters.node_sig = link_nodes.node_sig
    inner join assignment
        on node_clusters.cluster_num = assignment.cluster_num

),

final as (

    select
        links.identifier_value as link,
        pairs.*,
        cut_links.identifier_sig is not null as is_cut,
        cut_links.cut_reason,
        left_customers.customer_id as customer_id_l,
        right_customers.customer_id as customer_id_r
    from pairs
    inner join links
        on pairs.record_id_l = links.record_id_l
        and pairs.record_id_r = links.record_id_r
    left join cut_links
        on links.identifier_sig = cut_links.identifier_sig
    left join node_customers as left_customers
        on links.node_sig_l = left_customers.node_sig
    left join node_customers as right_customers
        on links.node_sig_r = right_customers.node_sig

)

select * from final
