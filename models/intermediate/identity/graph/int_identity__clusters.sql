{{ config(materialized='view') }}
{#- Every identity-bearing record with its cluster (int_identity__node_clusters through
    the record's node): cluster_key, whether the cluster is a known customer, and why not
    if it is anonymous. A view over the node-level table. -#}

with

records as (

    select * from {{ ref('int_identity__records') }}

),

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}

),

final as (

    select
        records.record_id,
        records.node_sig,
        records.source_system,
        records.source_table,
        records.record_key,
        records.observed_at,
        records.is_person_record,
        node_clusters.cluster_num,
        node_clusters.cluster_key,
        node_clusters.cluster_records,
        node_clusters.is_known,
        node_clusters.anonymous_reason
    from records
    inner join node_clusters
        on records.node_sig = node_clusters.node_sig

)

select * from final
