{#- Size of every known cluster: records, person records and distinct personal
    (non-anonymous) identifiers. The giant-cluster test watches n_personal_identifiers:
    one person has a handful; hundreds mean junk slipped through the guards. -#}

with

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}
    where is_known

),

edges as (

    select * from {{ ref('int_identity__edges') }}
    where not is_anonymous_type

),

personal_identifiers as (

    select
        node_clusters.cluster_num,
        count(distinct edges.identifier_sig) as n_personal_identifiers
    from node_clusters
    inner join edges
        on node_clusters.node_sig = edges.node_sig
    group by node_clusters.cluster_num

),

record_counts as (

    select
        cluster_num,
        cluster_key,
        sum(n_records) as n_records,
        sum(case when is_person_record then n_records else 0 end) as n_person_records
    from node_clusters
    group by cluster_num, cluster_key

),

final as (

    select
        record_counts.cluster_key,
        cast(record_counts.n_records as {{ dbt.type_bigint() }}) as n_records,
        cast(record_counts.n_person_records as {{ dbt.type_bigint() }}) as n_person_records,
        coalesce(personal_identifiers.n_personal_identifiers, 0) as n_personal_identifiers
    from record_counts
    left join personal_identifiers
        on record_counts.cluster_num = personal_identifiers.cluster_num

)

select * from final
