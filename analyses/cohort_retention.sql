{#- Cohort retention: customers grouped by the month of their first purchase; for each
    month n after it, the share of the cohort that bought (again) in that month. Month 0
    is the acquisition month, so its retention is 100% by definition.

    dbt compile --select cohort_retention, then run
    target/compiled/customer360/analyses/cohort_retention.sql against the warehouse
    (docs/analysts.md). Reads the pseudonymised analyst layer, the tables analysts have. -#}
with

orders as (

    select * from {{ ref('analyst__fct_orders') }}

),

purchases as (

    select
        customer_id,
        {{ dbt.date_trunc('month', 'ordered_at') }} as order_month
    from orders
    where is_purchase
      and customer_id is not null

),

cohorts as (

    select
        customer_id,
        min(order_month) as cohort_month
    from purchases
    group by customer_id

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as cohort_customers
    from cohorts
    group by cohort_month

),

active_months as (

    select distinct
        cohorts.cohort_month,
        purchases.customer_id,
        {{ dbt.datediff('cohorts.cohort_month', 'purchases.order_month', 'month') }} as months_since_first_purchase
    from purchases
    inner join cohorts on purchases.customer_id = cohorts.customer_id

),

retained as (

    select
        cohort_month,
        months_since_first_purchase,
        count(*) as active_customers
    from active_months
    group by cohort_month, months_since_first_purchase

),

final as (

    select
        retained.cohort_month,
        cohort_sizes.cohort_customers,
        retained.months_since_first_purchase,
        retained.active_customers,
        cast(retained.active_customers as double) / cohort_sizes.cohort_customers as retention_rate
    from retained
    inner join cohort_sizes on retained.cohort_month = cohort_sizes.cohort_month

)

select * from final
order by cohort_month, months_since_first_purchase
