with

base as (
    select * from {{ ref('base_app__devices') }}
),

final as (
    select
        'app.devices' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('app', 'devices')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
