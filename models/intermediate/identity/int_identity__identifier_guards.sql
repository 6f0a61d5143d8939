{#- One row per distinct identifier (type, value) with the guard decisions: blocklisted
    value or pattern (seeds identity_blocklist_values / identity_blocklist_patterns), or
    seen on more people-level keys than its type's max_people. is_usable = links records.
    identifier_num is a dense integer (ordered by type, value) for the graph algorithms. -#}

with

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

people_keys as (

    select * from {{ ref('int_identity__people_keys') }}

),

blocklist_values as (

    select * from {{ ref('identity_blocklist_values') }}

),

blocklist_patterns as (

    select * from {{ ref('identity_blocklist_patterns') }}

),

distinct_identifiers as (

    select
        identifier_type,
        identifier_value,
        count(*) as n_records,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from identifiers
    group by identifier_type, identifier_value

),

people_per_kind as (

    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        people_keys.people_key_kind,
        count(distinct people_keys.people_key) as n_people
    from identifiers
    inner join people_keys
        on identifiers.record_id = people_keys.record_id
    group by
        identifiers.identifier_type,
        identifiers.identifier_value,
        people_keys.people_key_kind

),

people_counts as (

    select
        identifier_type,
        identifier_value,
        max(n_people) as n_people
    from people_per_kind
    group by identifier_type, identifier_value

),

value_hits as (

    select
        distinct_identifiers.identifier_type,
        distinct_identifiers.identifier_value,
        min(blocklist_values.reason) as reason
    from distinct_identifiers
    inner join blocklist_values
        on distinct_identifiers.identifier_value = blocklist_values.identifier_value
        and blocklist_values.identifier_type in (distinct_identifiers.identifier_type, '*')
    group by distinct_identifiers.identifier_type, distinct_identifiers.identifier_value

),

pattern_hits as (

    select
        distinct_identifiers.identifier_type,
        distinct_identifiers.identifier_value,
        min(blocklist_patterns.reason) as reason
    from distinct_identifiers
    inner join blocklist_patterns
        on blocklist_patterns.identifier_type in (distinct_identifiers.identifier_type, '*')
        and distinct_identifiers.identifier_value like blocklist_patterns.pattern
    group by distinct_identifiers.identifier_type, distinct_identifiers.identifier_value

),

decided as (

    select
        distinct_identifiers.identifier_type,
        distinct_identifiers.identifier_value,
        distinct_identifiers.n_records,
        coalesce(people_counts.n_people, 0) as n_people,
        {{ identity_type_attribute('distinct_identifiers.identifier_type', 'max_people') }} as max_people,
        {{ identity_type_attribute('distinct_identifiers.identifier_type', 'trust', '0') }} as trust,
        {{ identity_type_attribute('distinct_identifiers.identifier_type', 'unique_namespace', 'false') }} as is_unique_namespace,
        {{ identity_type_attribute('distinct_identifiers.identifier_type', 'anonymous', 'false') }} as is_anonymous_type,
        distinct_identifiers.first_observed_at,
        distinct_identifiers.last_observed_at,
        value_hits.reason as blocklist_value_reason,
        pattern_hits.reason as blocklist_pattern_reason
    from distinct_identifiers
    left join people_counts
        on distinct_identifiers.identifier_type = people_counts.identifier_type
        and distinct_identifiers.identifier_value = people_counts.identifier_value
    left join value_hits
        on distinct_identifiers.identifier_type = value_hits.identifier_type
        and distinct_identifiers.identifier_value = value_hits.identifier_value
    left join pattern_hits
        on distinct_identifiers.identifier_type = pattern_hits.identifier_type
        and distinct_identifiers.identifier_value = pattern_hits.identifier_value

),

reasoned as (

    select
        row_number() over (order by identifier_type, identifier_value) - 1 as identifier_num,
        identifier_type,
        identifier_value,
        n_records,
        n_people,
        max_people,
        trust,
        is_unique_namespace,
        is_anonymous_type,
        first_observed_at,
        last_observed_at,
        case
            when blocklist_value_reason is not null
                then {{ dbt.concat(["'blocklisted value: '", 'blocklist_value_reason']) }}
            when blocklist_pattern_reason is not null
                then {{ dbt.concat(["'blocklisted pattern: '", 'blocklist_pattern_reason']) }}
            when max_people is not null and n_people > max_people
                then {{ dbt.concat([
                    "'seen on '", "cast(n_people as " ~ dbt.type_string() ~ ")",
                    "' people-level keys (max '", "cast(max_people as " ~ dbt.type_string() ~ ")", "')'",
                ]) }}
        end as exclusion_reason
    from decided

),

final as (

    select
        *,
        exclusion_reason is null as is_usable,
        coalesce(exclusion_reason like 'blocklisted%', false) as is_blocklisted
    from reasoned

)

select * from final
