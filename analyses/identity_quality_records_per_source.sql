{#- Identity resolution quality, records per source: for each source system and table,
    how many identity-bearing records were resolved to a customer (customer_source_map)
    and how many belong to nobody (identity_anonymous_records), and the customers each
    source reaches. Every record is in exactly one of the two marts. -#}
with

source_map as (

    select * from {{ ref('analyst__customer_source_map') }}

),

anonymous_records as (

    select * from {{ ref('analyst__identity_anonymous_records') }}

),

mapped as (

    select
        source_system,
        source_table,
        count(*) as mapped_records,
        count(distinct customer_id) as customers,
        sum(case when linked_by_identifier_types is null then 1 else 0 end) as lone_records
    from source_map
    group by source_system, source_table

),

unmapped as (

    select
        source_system,
        source_table,
        count(*) as anonymous_records
    from anonymous_records
    group by source_system, source_table

),

final as (

    select
        coalesce(mapped.source_system, unmapped.source_system) as source_system,
        coalesce(mapped.source_table, unmapped.source_table) as source_table,
        coalesce(mapped.mapped_records, 0) as mapped_records,
        coalesce(unmapped.anonymous_records, 0) as anonymous_records,
        coalesce(mapped.mapped_records, 0) + coalesce(unmapped.anonymous_records, 0) as records,
        coalesce(mapped.customers, 0) as customers,
        coalesce(mapped.lone_records, 0) as lone_records,
        cast(coalesce(mapped.mapped_records, 0) as double)
            / (coalesce(mapped.mapped_records, 0) + coalesce(unmapped.anonymous_records, 0))
            as mapped_share
    from mapped
    full outer join unmapped
        on mapped.source_system = unmapped.source_system
        and mapped.source_table = unmapped.source_table

)

select * from final
order by source_system, source_table
