{#- How many staged records each customer has, in total and per source system, and when
    the customer was first and last seen on any of them. -#}
{%- set systems = identity_sources() | map(attribute='source_system') | unique | list %}

with

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

),

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}
    where is_known

),

cluster_counts as (

    select
        cluster_num,
        cast(sum(n_records) as {{ dbt.type_bigint() }}) as n_records,
        {%- for system in systems %}
        cast(sum(case when source_system = '{{ system }}' then n_records else 0 end) as {{ dbt.type_bigint() }})
            as n_{{ system }}_records,
        {%- endfor %}
        min(first_observed_at) as first_seen_at,
        max(last_observed_at) as last_seen_at
    from node_clusters
    group by cluster_num

),

final as (

    select
        assignment.customer_id,
        cluster_counts.n_records,
        {%- for system in systems %}
        cluster_counts.n_{{ system }}_records,
        {%- endfor %}
        cluster_counts.first_seen_at,
        cluster_counts.last_seen_at
    from cluster_counts
    inner join assignment
        on cluster_counts.cluster_num = assignment.cluster_num

)

select * from final
