{#- Identity resolution quality, links per identifier type: for every identifier type
    declared in var identity_identifier_types, how many resolved records it links to their
    customer's other records (customer_source_map.linked_by_identifier_types) and how many
    customers those records belong to. A record linked by several types counts under
    each. `lone_records` (a customer of one record) are linked by nothing. -#}
{%- set identifier_types = var('identity_identifier_types').keys() | list | sort %}
with

source_map as (

    select * from {{ ref('analyst__customer_source_map') }}

),

type_lists as (

    select
        customer_id,
        {{ dbt.concat(["','", "replace(linked_by_identifier_types, ' ', '')", "','"]) }} as identifier_type_list
    from source_map
    where linked_by_identifier_types is not null

),

links as (

    {%- for identifier_type in identifier_types %}
    select
        '{{ identifier_type }}' as identifier_type,
        count(*) as linked_records,
        count(distinct customer_id) as customers
    from type_lists
    where identifier_type_list like '%,{{ identifier_type }},%'
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

totals as (

    select
        count(*) as resolved_records,
        sum(case when linked_by_identifier_types is null then 1 else 0 end) as lone_records
    from source_map

),

final as (

    select
        links.identifier_type,
        links.linked_records,
        links.customers,
        cast(links.linked_records as double) / totals.resolved_records as share_of_resolved_records,
        totals.resolved_records,
        totals.lone_records
    from links
    cross join totals

)

select * from final
order by linked_records desc, identifier_type
