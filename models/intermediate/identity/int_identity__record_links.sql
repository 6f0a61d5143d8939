{#- Per record, the identifiers that link it to other records of its customer: usable,
    not cut, and carried by at least one other record. -#}

with

records as (

    select * from {{ ref('int_identity__records') }}

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

kept_edges as (

    select edges.record_num, edges.identifier_num
    from edges
    left join components as cut
        on cut.is_cut_link
        and edges.record_num = cut.record_num
        and edges.identifier_num = cut.identifier_num
    where cut.record_num is null

),

shared_identifiers as (

    select identifier_num
    from kept_edges
    group by identifier_num
    having count(*) > 1

),

linking as (

    select
        kept_edges.record_num,
        guards.identifier_type,
        {{ dbt.concat(['guards.identifier_type', "':'", 'guards.identifier_value']) }} as identifier
    from kept_edges
    inner join shared_identifiers
        on kept_edges.identifier_num = shared_identifiers.identifier_num
    inner join guards
        on kept_edges.identifier_num = guards.identifier_num

),

aggregated as (

    select
        record_num,
        {{ dbt.listagg('identifier_type', "','", 'order by identifier_type') }} as linked_by_identifier_types,
        {{ dbt.listagg('identifier', "' | '", 'order by identifier') }} as linked_by_identifiers
    from linking
    group by record_num

),

final as (

    select
        records.record_id,
        aggregated.linked_by_identifier_types,
        aggregated.linked_by_identifiers
    from aggregated
    inner join records
        on aggregated.record_num = records.record_num

)

select * from final
