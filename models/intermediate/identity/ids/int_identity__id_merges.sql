{#- Previous customer IDs that merge in this build: one row per merged (absorbed) ID with
    the surviving ID (first seen; ties: lower sequence) and the identifier that caused the
    merge (strongest first: trust desc, then type and value): an identifier now on records
    of the absorbed ID and of another previous ID, or the absorbed ID's identifier on a new
    record that touches two previous IDs (e.g. a ticket with one's e-mail and the other's
    phone). Null when only a chain of several new records links them. -#}

with

overlap as (

    select * from {{ ref('int_identity__id_overlap') }}

),

records as (

    select * from {{ ref('int_identity__records') }}

),

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}

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

    {{ identity_previous_state(
        'identity_record_assignments',
        {'record_id': dbt.type_string(), 'customer_id': dbt.type_string()},
    ) }}

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

merge_nodes as (

    select
        node_clusters.node_sig,
        node_clusters.cluster_key
    from node_clusters
    where node_clusters.cluster_key in (select absorbed.cluster_key from absorbed)

),

merge_records as (

    select
        merge_nodes.cluster_key,
        records.node_sig,
        previous_assignments.customer_id as previous_customer_id
    from merge_nodes
    inner join records
        on merge_nodes.node_sig = records.node_sig
    left join previous_assignments
        on records.record_id = previous_assignments.record_id

),

merge_edges as (

    select distinct
        merge_records.cluster_key,
        merge_records.node_sig,
        merge_records.previous_customer_id,
        edges.identifier_sig
    from merge_records
    inner join edges
        on merge_records.node_sig = edges.node_sig
    left join components as cut
        on cut.is_cut_link
        and edges.node_sig = cut.node_sig
        and edges.identifier_sig = cut.identifier_sig
    where cut.node_sig is null

),

-- which previous IDs each identifier touches (through their records)
identifier_touches as (

    select distinct
        cluster_key,
        identifier_sig,
        previous_customer_id
    from merge_edges
    where previous_customer_id is not null

),

-- an identifier on records of the absorbed ID and of another previous ID
direct_bridges as (

    select
        absorbed.merged_customer_id,
        mine.identifier_sig
    from absorbed
    inner join identifier_touches as mine
        on absorbed.cluster_key = mine.cluster_key
        and absorbed.merged_customer_id = mine.previous_customer_id
    inner join identifier_touches as other
        on mine.cluster_key = other.cluster_key
        and mine.identifier_sig = other.identifier_sig
        and absorbed.merged_customer_id <> other.previous_customer_id

),

-- a new record whose identifiers touch two previous IDs: its identifier shared with the
-- absorbed ID
new_record_touches as (

    select
        merge_edges.cluster_key,
        merge_edges.node_sig,
        merge_edges.identifier_sig,
        identifier_touches.previous_customer_id
    from merge_edges
    inner join identifier_touches
        on merge_edges.cluster_key = identifier_touches.cluster_key
        and merge_edges.identifier_sig = identifier_touches.identifier_sig
    where merge_edges.previous_customer_id is null

),

bridging_new_records as (

    select node_sig
    from new_record_touches
    group by node_sig
    having count(distinct previous_customer_id) > 1

),

new_record_bridges as (

    select
        absorbed.merged_customer_id,
        new_record_touches.identifier_sig
    from absorbed
    inner join new_record_touches
        on absorbed.cluster_key = new_record_touches.cluster_key
        and absorbed.merged_customer_id = new_record_touches.previous_customer_id
    inner join bridging_new_records
        on new_record_touches.node_sig = bridging_new_records.node_sig

),

bridges as (

    select
        candidates.merged_customer_id,
        guards.identifier_type,
        guards.identifier_value,
        row_number() over (
            partition by candidates.merged_customer_id
            order by guards.trust desc, guards.identifier_type asc, guards.identifier_value asc
        ) as bridge_rank
    from (
        select * from direct_bridges
        union all
        select * from new_record_bridges
    ) as candidates
    inner join guards
        on candidates.identifier_sig = guards.identifier_sig

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
