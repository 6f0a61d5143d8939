{#- Every identity-bearing record with its cluster (connected component after guards and
    namespace cuts). cluster_key = the smallest record_id of the cluster (deterministic).
    A cluster is known (gets a customer ID) if it holds a person record (account, contact,
    member, subscriber) or a usable identifier of a non-anonymous type; otherwise its
    records are anonymous (cookies or devices never linked to a person, or no usable
    identifier at all) and anonymous_reason says why. -#}

with

records as (

    select * from {{ ref('int_identity__records') }}

),

components as (

    select * from {{ ref('int_identity__components') }}

),

edges as (

    select * from {{ ref('int_identity__edges') }}

),

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

record_components as (

    select
        records.*,
        components.component_num
    from records
    inner join components
        on records.record_num = components.record_num
        and not components.is_cut_link

),

cut_links as (

    select record_num, identifier_num
    from components
    where is_cut_link

),

personal_edges as (

    select edges.record_num
    from edges
    inner join guards
        on edges.identifier_num = guards.identifier_num
    left join cut_links
        on edges.record_num = cut_links.record_num
        and edges.identifier_num = cut_links.identifier_num
    where not guards.is_anonymous_type
      and cut_links.record_num is null

),

record_flags as (

    select
        record_components.*,
        record_components.record_num in (select record_num from personal_edges)
            as has_personal_identifier
    from record_components

),

identifier_presence as (

    select
        identifiers.record_id,
        bool_or(guards.is_usable) as has_usable_identifier
    from identifiers
    inner join guards
        on identifiers.identifier_type = guards.identifier_type
        and identifiers.identifier_value = guards.identifier_value
    group by identifiers.record_id

),

clustered as (

    select
        record_flags.record_id,
        record_flags.record_num,
        record_flags.source_system,
        record_flags.source_table,
        record_flags.record_key,
        record_flags.observed_at,
        record_flags.is_person_record,
        record_flags.has_personal_identifier,
        identifier_presence.record_id is not null as has_identifier,
        coalesce(identifier_presence.has_usable_identifier, false) as has_usable_identifier,
        record_flags.component_num,
        min(record_flags.record_id) over (partition by record_flags.component_num) as cluster_key,
        bool_or(record_flags.is_person_record or record_flags.has_personal_identifier)
            over (partition by record_flags.component_num) as is_known,
        count(*) over (partition by record_flags.component_num) as cluster_records
    from record_flags
    left join identifier_presence
        on record_flags.record_id = identifier_presence.record_id

),

final as (

    select
        record_id,
        record_num,
        source_system,
        source_table,
        record_key,
        observed_at,
        is_person_record,
        cluster_key,
        cluster_records,
        is_known,
        case
            when is_known then null
            when not has_identifier then 'no identifier'
            when not has_usable_identifier then 'only excluded identifiers'
            else 'only anonymous identifiers (cookie/device never linked to a person)'
        end as anonymous_reason
    from clustered

)

select * from final
