{#- Identity resolution quality, cluster sizes: how many source records were merged into
    each customer (dim_customer.n_records), bucketed. A long tail of very large clusters
    points at over-merging (a shared e-mail or phone that slipped through the guards); a
    mass of size-1 clusters at under-merging. -#}
with

customers as (

    select * from {{ ref('analyst__dim_customer') }}

),

sized as (

    select
        customer_id,
        n_records,
        case
            when n_records <= 5 then cast(n_records as {{ dbt.type_string() }})
            when n_records <= 10 then '6-10'
            when n_records <= 20 then '11-20'
            when n_records <= 50 then '21-50'
            when n_records <= 100 then '51-100'
            else '>100'
        end as cluster_size,
        case
            when n_records <= 5 then n_records
            when n_records <= 10 then 6
            when n_records <= 20 then 11
            when n_records <= 50 then 21
            when n_records <= 100 then 51
            else 101
        end as cluster_size_from

    from customers

),

final as (

    select
        cluster_size,
        cluster_size_from,
        count(*) as customers,
        sum(n_records) as records,
        cast(count(*) as double) / sum(count(*)) over () as share_of_customers,
        cast(sum(n_records) as double) / sum(sum(n_records)) over () as share_of_records,
        max(n_records) as largest_cluster
    from sized
    group by cluster_size, cluster_size_from

)

select * from final
order by cluster_size_from
