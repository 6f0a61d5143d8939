{#- The customer-ID registry after this build: every ID ever minted (active, merged,
    retired, erased), one row each. Previous IDs get their fate (kept, merged into the
    survivor, or retired when none of their records is left in a known cluster); merged
    and retired IDs that pointed at an ID that merged now point at its survivor, so every
    old ID resolves to its current ID in one lookup (current_customer_id). New IDs are
    added with the build time as valid_from. Status 'erased' (set by privacy erasure) is
    kept as it is and never reused. -#}

with

previous_registry as (

    {{ identity_previous_state('identity_registry', identity_registry_columns()) }}

),

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

),

id_merges as (

    select * from {{ ref('int_identity__id_merges') }}

),

fates as (

    select
        previous_registry.customer_id,
        case
            when kept.customer_id is not null then 'active'
            when id_merges.merged_customer_id is not null then 'merged'
            else 'retired'
        end as new_status,
        case
            when kept.customer_id is not null then previous_registry.customer_id
            when id_merges.merged_customer_id is not null then id_merges.survivor_customer_id
        end as new_current_customer_id,
        kept.first_seen_at as cluster_first_seen_at,
        id_merges.survivor_customer_id,
        id_merges.merge_identifier_type,
        id_merges.merge_identifier_value
    from previous_registry
    left join assignment as kept
        on previous_registry.customer_id = kept.customer_id
        and kept.assignment_kind = 'kept'
    left join id_merges
        on previous_registry.customer_id = id_merges.merged_customer_id
    where previous_registry.status = 'active'

),

updated_previous as (

    select
        previous_registry.customer_id,
        previous_registry.id_seq,
        coalesce(own_fate.new_status, previous_registry.status) as status,
        case
            when own_fate.customer_id is not null then own_fate.new_current_customer_id
            when previous_registry.status = 'merged' and target_fate.customer_id is not null
                then target_fate.new_current_customer_id
            when previous_registry.status = 'merged' then previous_registry.current_customer_id
        end as current_customer_id,
        case
            when own_fate.cluster_first_seen_at < previous_registry.first_seen_at
                then own_fate.cluster_first_seen_at
            else previous_registry.first_seen_at
        end as first_seen_at,
        previous_registry.minted_at,
        previous_registry.split_from_customer_id,
        coalesce(previous_registry.merged_into_customer_id, own_fate.survivor_customer_id)
            as merged_into_customer_id,
        coalesce(previous_registry.merge_identifier_type, own_fate.merge_identifier_type)
            as merge_identifier_type,
        coalesce(previous_registry.merge_identifier_value, own_fate.merge_identifier_value)
            as merge_identifier_value,
        previous_registry.valid_from,
        case
            when own_fate.new_status in ('merged', 'retired') then {{ identity_build_at() }}
            else previous_registry.valid_to
        end as valid_to
    from previous_registry
    left join fates as own_fate
        on previous_registry.customer_id = own_fate.customer_id
    left join fates as target_fate
        on previous_registry.current_customer_id = target_fate.customer_id
        and previous_registry.status = 'merged'

),

minted as (

    select
        assignment.customer_id,
        assignment.id_seq,
        'active' as status,
        assignment.customer_id as current_customer_id,
        assignment.first_seen_at,
        {{ identity_build_at() }} as minted_at,
        assignment.split_from_customer_id,
        cast(null as {{ dbt.type_string() }}) as merged_into_customer_id,
        cast(null as {{ dbt.type_string() }}) as merge_identifier_type,
        cast(null as {{ dbt.type_string() }}) as merge_identifier_value,
        {{ identity_build_at() }} as valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as valid_to
    from assignment
    where assignment.assignment_kind in ('minted', 'minted_split')

),

final as (

    select * from updated_previous
    union all
    select * from minted

)

select * from final
