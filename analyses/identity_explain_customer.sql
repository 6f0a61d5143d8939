{#- Explain a customer: which records belong to it and through which identifiers; with
    explain_from / explain_to, the shortest identifier path between two of its records
    (breadth-first search as a recursive CTE over the customer's record-identifier graph).

    dbt compile --select identity_explain_customer \
      --vars '{explain_customer_id: CUST-00000131, explain_from: "shop.customers:SC0000059",
               explain_to: "loyalty.members:700209248559"}'
    then run target/compiled/.../identity_explain_customer.sql against the build DB.
    An old (merged) ID is resolved to its current ID first. The CLI equivalent is
    `customer360 explain CUST-… --from … --to …`. -#}
{%- set requested = var('explain_customer_id', 'CUST-00000001') %}
{%- set from_record = var('explain_from', none) %}
{%- set to_record = var('explain_to', none) %}

with recursive

history as (

    select * from {{ ref('customer_id_history') }}

),

source_map as (

    select * from {{ ref('customer_source_map') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}

),

target as (

    select current_customer_id as customer_id
    from history
    where customer_id = '{{ requested }}'

),

customer_edges as (

    select
        source_map.record_id,
        {{ dbt.concat(['guards.identifier_type', "':'", 'guards.identifier_value']) }} as identifier
    from source_map
    inner join target on source_map.customer_id = target.customer_id
    inner join identifiers on source_map.record_id = identifiers.record_id
    inner join guards
        on identifiers.identifier_type = guards.identifier_type
        and identifiers.identifier_value = guards.identifier_value
    where guards.is_usable

),

{% if from_record and to_record %}
-- breadth-first search: each step goes record -> identifier -> record; USING KEY keeps one
-- row per record (DuckDB >= 1.3) and recurring.paths is every record reached so far
paths (record_id, path, depth) using key (record_id) as (

    select
        '{{ from_record }}' as record_id,
        '{{ from_record }}' as path,
        0 as depth

    union all

    select
        next_edge.record_id,
        paths.path || ' -> ' || this_edge.identifier || ' -> ' || next_edge.record_id,
        paths.depth + 1
    from paths
    inner join customer_edges as this_edge on paths.record_id = this_edge.record_id
    inner join customer_edges as next_edge
        on this_edge.identifier = next_edge.identifier
        and next_edge.record_id <> paths.record_id
    where paths.depth < 50
      and next_edge.record_id not in (select record_id from recurring.paths)

),

final as (

    select path, depth as hops
    from paths
    where record_id = '{{ to_record }}'
    order by depth, path
    limit 1

)
{% else %}
final as (

    select
        source_map.customer_id,
        source_map.record_id,
        source_map.observed_at,
        source_map.linked_by_identifiers
    from source_map
    inner join target on source_map.customer_id = target.customer_id
    order by source_map.source_system, source_map.source_table, source_map.observed_at

)
{% endif %}

select * from final
