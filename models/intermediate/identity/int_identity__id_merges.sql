{#- Previous customer IDs that merge in this build: one row per merged (absorbed) ID with
    the surviving ID (first seen; ties: lower sequence) and the identifier that caused the
    merge: an identifier linking a record of the absorbed ID to a record of the cluster
    outside it (strongest first: trust desc, then type and value). -#}

with

overlap as (

    select * from {{ ref('int_identity__id_overlap') }}

),

clusters as (

    select * from {{ ref('int_identity__clusters') }}

),

edges as (

    select * from {{ ref('int_identity__edges') }}

),

components as (

    select * from {{ ref('int_identity__components') }}

),

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}

),

previous_assignments as (

    {{ identity_previous_state('identity_record_assignments', {'record_id': dbt.type_string(), 'customer_id': dbt.type_string()}) }}

),

absorbed as (

    select
        merged.cluster_key,
        merged.customer_id as merged_customer_id,
        survivor.customer_id as survivor_customer_id
    from overlap as merged
    inner join overlap as survivor
        on merged.cluster_key = survivor.cluster_key
        and survivor.is_home
        and survivor.survivor_rank = 1
    where merged.is_home
      and merged.survivor_rank > 1

),

merge_records as (

    select
        clusters.cluster_key,
        clusters.record_num,
        previous_assignments.customer_id as previous_customer_id
    from clusters
    left join previous_assignments
        on clusters.record_id = previous_assignments.record_id
    where clusters.cluster_key in (select cluster_key from absorbed)

),

merge_edges as (

    select
        merge_records.cluster_key,
        merge_records.previous_customer_id,
        edges.identifier_num
    from merge_records
    inner join edges
        on merge_records.record_num = edges.record_num
    left join components as cut
        on cut.is_cut_link
        and edges.record_num = cut.record_num
        and edges.identifier_num = cut.identifier_num
    where cut.record_num is null

),

bridges as (

    select
        absorbed.merged_customer_id,
        guards.identifier_type,
        guards.identifier_value,
        row_number() over (
            partition by absorbed.merged_customer_id
            order by guards.trust desc, guards.identifier_type, guards.identifier_value
        ) as bridge_rank
    from absorbed
    inner join merge_edges as inside
        on absorbed.cluster_key = inside.cluster_key
        and inside.previous_customer_id = absorbed.merged_customer_id
    inner join merge_edges as outside
        on inside.cluster_key = outside.cluster_key
        and inside.identifier_num = outside.identifier_num
        and (
            outside.previous_customer_id is null
            or outside.previous_customer_id <> absorbed.merged_customer_id
        )
    inner join guards
        on inside.identifier_num = guards.identifier_num

),

final as (

    select
        absorbed.cluster_key,
        absorbed.merged_customer_id,
        absorbed.survivor_customer_id,
        bridges.identifier_type as merge_identifier_type,
        bridges.identifier_value as merge_identifier_value
    from absorbed
    left join bridges
        on absorbed.merged_customer_id = bridges.merged_customer_id
        and bridges.bridge_rank = 1

)

select * from final
