{#- One row per known cluster with its customer ID, decided against the previous build's
    state (identity_state.identity_record_assignments and identity_registry, read through
    the adapter, not ref, so there is no cycle):
    - each active previous ID "lives" in the cluster holding most of its records (ties:
      the part seen first, then the smaller cluster_key): a split keeps the ID there;
    - a cluster where exactly one previous ID lives keeps it (unchanged or grown);
    - a cluster where several live keeps the one first seen (ties: the lower sequence);
      the others are merged into it (int_identity__id_merges);
    - a cluster where none lives gets a new ID with the next sequence number after the
      highest ever minted; if it holds records of a previous ID, split_from says which. -#}

with

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}
    where is_known

),

overlap as (

    select * from {{ ref('int_identity__id_overlap') }}

),

previous_registry as (

    {{ identity_previous_state('identity_registry', identity_registry_columns()) }}

),

cluster_summary as (

    select
        cluster_key,
        min(cluster_num) as cluster_num,
        cast(sum(n_records) as {{ dbt.type_bigint() }}) as n_records,
        min(first_observed_at) as first_seen_at,
        max(last_observed_at) as last_seen_at
    from node_clusters
    group by cluster_key

),

home_candidates as (

    select * from overlap
    where is_home

),

split_origins as (

    select
        cluster_key,
        customer_id as split_from_customer_id
    from (
        select
            overlap.*,
            row_number() over (
                partition by overlap.cluster_key
                order by overlap.n_records desc, overlap.part_first_seen_at asc, overlap.customer_id asc
            ) as origin_rank
        from overlap
    ) as ranked
    where origin_rank = 1

),

max_seq as (

    select coalesce(max(id_seq), 0) as max_id_seq from previous_registry

),

kept as (

    select
        cluster_summary.cluster_key,
        home_candidates.customer_id,
        home_candidates.id_seq,
        cast(null as {{ dbt.type_string() }}) as split_from_customer_id,
        'kept' as assignment_kind
    from cluster_summary
    inner join home_candidates
        on cluster_summary.cluster_key = home_candidates.cluster_key
        and home_candidates.survivor_rank = 1

),

unhomed as (

    select
        cluster_summary.*,
        split_origins.split_from_customer_id,
        row_number() over (
            order by cluster_summary.first_seen_at asc, cluster_summary.cluster_key asc
        ) as new_rank
    from cluster_summary
    left join kept
        on cluster_summary.cluster_key = kept.cluster_key
    left join split_origins
        on cluster_summary.cluster_key = split_origins.cluster_key
    where kept.cluster_key is null

),

minted as (

    select
        unhomed.cluster_key,
        {{ identity_customer_id('max_seq.max_id_seq + unhomed.new_rank') }} as customer_id,
        max_seq.max_id_seq + unhomed.new_rank as id_seq,
        unhomed.split_from_customer_id,
        case when unhomed.split_from_customer_id is null then 'minted' else 'minted_split' end
            as assignment_kind
    from unhomed
    cross join max_seq

),

assigned as (

    select * from kept
    union all
    select * from minted

),

final as (

    select
        assigned.cluster_key,
        cluster_summary.cluster_num,
        assigned.customer_id,
        assigned.id_seq,
        assigned.assignment_kind,
        assigned.split_from_customer_id,
        cluster_summary.n_records,
        cluster_summary.first_seen_at,
        cluster_summary.last_seen_at
    from assigned
    inner join cluster_summary
        on assigned.cluster_key = cluster_summary.cluster_key

)

select * from final
