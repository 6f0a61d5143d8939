{#- Every identity-bearing staged record of a known customer -> its one current customer
    ID, with the identifiers that link it. Records that belong to no customer (anonymous)
    are in identity_anonymous_records; together they account for every record once. -#}

with

clusters as (

    select * from {{ ref('int_identity__clusters') }}
    where is_known

),

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

),

links as (

    select * from {{ ref('int_identity__record_links') }}

),

final as (

    select
        clusters.record_id,
        clusters.source_system,
        clusters.source_table,
        clusters.record_key,
        assignment.customer_id,
        clusters.observed_at,
        clusters.is_person_record,
        links.linked_by_identifier_types,
        links.linked_by_identifiers
    from clusters
    inner join assignment
        on clusters.cluster_key = assignment.cluster_key
    left join links
        on clusters.record_id = links.record_id

)

select * from final
