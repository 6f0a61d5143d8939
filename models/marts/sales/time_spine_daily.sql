{#- One row per day: the time spine the dbt semantic layer (MetricFlow) joins metrics to.
    Covers 2015-01-01 up to (excluding) 2036-01-01, wide enough for any order history. -#}
with

days as (
    {{ dbt.date_spine(
        'day',
        "cast('2015-01-01' as date)",
        "cast('2036-01-01' as date)"
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
