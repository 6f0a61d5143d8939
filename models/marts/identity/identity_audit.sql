{#- Every identifier the guards excluded from linking, every link cut to keep a unique
    namespace, every look-alike e-mail and every unknown account reference, with its
    reason: the review list for data stewards. -#}

with

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}

),

components as (

    select * from {{ ref('int_identity__components') }}

),

nodes as (

    select * from {{ ref('int_identity__nodes') }}

),

excluded_identifiers as (

    select
        'excluded_identifier' as audit_kind,
        identifier_type,
        identifier_value,
        cast(null as {{ dbt.type_string() }}) as record_id,
        exclusion_reason as reason,
        n_records,
        n_people
    from guards
    where not is_usable

),

cut_links as (

    select
        'cut_link' as audit_kind,
        guards.identifier_type,
        guards.identifier_value,
        nodes.first_record_id as record_id,
        components.cut_reason as reason,
        guards.n_records,
        guards.n_people
    from components
    inner join guards
        on components.identifier_sig = guards.identifier_sig
    inner join nodes
        on components.node_sig = nodes.node_sig
    where components.is_cut_link

),

rejected_identifiers as (

    select
        rejected.audit_kind,
        rejected.identifier_type,
        rejected.identifier_value,
        rejected.record_id,
        rejected.reason,
        cast(1 as {{ dbt.type_bigint() }}) as n_records,
        cast(null as {{ dbt.type_bigint() }}) as n_people
    from {{ ref('int_identity__rejected_identifiers') }} as rejected

),

final as (

    select * from excluded_identifiers
    union all
    select * from cut_links
    union all
    select * from rejected_identifiers

)

select * from final
