{#- Identity-bearing staged records that belong to no customer, with the reason: only
    anonymous identifiers (a cookie or device never linked to a person), only identifiers
    excluded by the guards, or none at all. anonymous_key groups the records of one
    anonymous visitor/device (the cluster). -#}

with

clusters as (

    select * from {{ ref('int_identity__clusters') }}
    where not is_known

),

final as (

    select
        record_id,
        source_system,
        source_table,
        record_key,
        cluster_key as anonymous_key,
        observed_at,
        anonymous_reason
    from clusters

)

select * from final
