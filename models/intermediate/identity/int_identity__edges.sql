{#- The record-identifier bipartite graph as dense integer pairs: one row per record and
    usable identifier it carries (guards applied). Input of the clustering. -#}

with

records as (

    select * from {{ ref('int_identity__records') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}

),

final as (

    select
        records.record_num,
        guards.identifier_num
    from identifiers
    inner join guards
        on identifiers.identifier_type = guards.identifier_type
        and identifiers.identifier_value = guards.identifier_value
    inner join records
        on identifiers.record_id = records.record_id
    where guards.is_usable

)

select * from final
