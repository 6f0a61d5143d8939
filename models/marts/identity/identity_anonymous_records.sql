{#- Identity-bearing staged records that belong to no customer, with the reason: only
    anonymous identifiers (a cookie or device never linked to a person), only identifiers
    excluded by the guards, or none at all. anonymous_key groups the records of one
    anonymous visitor/device (the cluster). -#}

with

records as (

    select * from {{ ref('int_identity__records') }}

),

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}
    where not is_known

),

final as (

    select
        records.record_id,
        records.source_system,
        records.source_table,
        records.record_key,
        node_clusters.cluster_key as anonymous_key,
        records.observed_at,
        node_clusters.anonymous_reason
    from records
    inner join node_clusters
        on records.node_sig = node_clusters.node_sig

)

select * from final
