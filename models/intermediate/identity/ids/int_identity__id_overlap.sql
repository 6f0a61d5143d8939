{#- How this build's known clusters overlap the previous build's active customer IDs:
    one row per (cluster, previous ID) with the number of the ID's records now in that
    cluster. Reads the previous state (identity_state.identity_record_assignments and
    identity_registry) through the adapter, not ref, so there is no cycle.
    is_home: the cluster that holds most of the ID's records (ties: the part seen first,
    then the smaller cluster_key) is where the ID lives on. survivor_rank orders the IDs
    living in one cluster by first seen (ties: lower sequence): rank 1 keeps its ID, the
    others are merged into it. -#}

with

records as (

    select * from {{ ref('int_identity__records') }}

),

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}
    where is_known

),

previous_assignments as (

    {{ identity_previous_state(
        'identity_record_assignments',
        {'record_id': dbt.type_string(), 'customer_id': dbt.type_string()},
    ) }}

),

previous_registry as (

    {{ identity_previous_state('identity_registry', identity_registry_columns()) }}

),

overlap as (

    select
        node_clusters.cluster_key,
        previous_assignments.customer_id,
        count(*) as n_records,
        min(records.observed_at) as part_first_seen_at
    from previous_assignments
    inner join records
        on previous_assignments.record_id = records.record_id
    inner join node_clusters
        on records.node_sig = node_clusters.node_sig
    group by node_clusters.cluster_key, previous_assignments.customer_id

),

with_registry as (

    select
        overlap.*,
        previous_registry.id_seq,
        previous_registry.first_seen_at,
        row_number() over (
            partition by overlap.customer_id
            order by overlap.n_records desc, overlap.part_first_seen_at asc, overlap.cluster_key asc
        ) = 1 as is_home
    from overlap
    inner join previous_registry
        on overlap.customer_id = previous_registry.customer_id
        and previous_registry.status = 'active'

),

final as (

    select
        cluster_key,
        customer_id,
        id_seq,
        first_seen_at,
        n_records,
        part_first_seen_at,
        is_home,
        case when is_home then
                row_number() over (
                    partition by cluster_key, is_home
                    order by first_seen_at asc, id_seq asc
                )
        end as survivor_rank
    from with_registry

)

select * from final
