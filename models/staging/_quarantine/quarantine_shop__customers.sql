with

base as (
    select * from {{ ref('base_shop__customers') }}
),

final as (
    select
        'shop.customers' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('shop', 'customers')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
