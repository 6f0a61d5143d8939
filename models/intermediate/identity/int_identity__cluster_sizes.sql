{#- Size of every known cluster: records, person records and distinct personal
    (non-anonymous) identifiers. The giant-cluster test watches n_personal_identifiers:
    one person has a handful; hundreds mean junk slipped through the guards. -#}

with

clusters as (

    select * from {{ ref('int_identity__clusters') }}
    where is_known

),

edges as (

    select * from {{ ref('int_identity__edges') }}

),

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}

),

personal_identifiers as (

    select
        clusters.cluster_key,
        count(distinct edges.identifier_num) as n_personal_identifiers
    from clusters
    inner join edges
        on clusters.record_num = edges.record_num
    inner join guards
        on edges.identifier_num = guards.identifier_num
    where not guards.is_anonymous_type
    group by clusters.cluster_key

),

record_counts as (

    select
        cluster_key,
        count(*) as n_records,
        sum(case when is_person_record then 1 else 0 end) as n_person_records
    from clusters
    group by cluster_key

),

final as (

    select
        record_counts.cluster_key,
        record_counts.n_records,
        cast(record_counts.n_person_records as {{ dbt.type_bigint() }}) as n_person_records,
        coalesce(personal_identifiers.n_personal_identifiers, 0) as n_personal_identifiers
    from record_counts
    left join personal_identifiers
        on record_counts.cluster_key = personal_identifiers.cluster_key

)

select * from final
