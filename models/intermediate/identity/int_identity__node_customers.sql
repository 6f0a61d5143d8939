{{ config(materialized='ephemeral') }}
{#- Every node of a known cluster -> its current customer ID: the one join from the graph
    to the ID assignment that the record-level and customer-level marts share. -#}

with

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}
    where is_known

),

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

),

final as (

    select
        node_clusters.node_sig,
        assignment.customer_id
    from node_clusters
    inner join assignment
        on node_clusters.cluster_num = assignment.cluster_num

)

select * from final
