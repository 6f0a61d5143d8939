with

base as (
    select * from {{ ref('base_app__users') }}
),

final as (
    select
        'app.users' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('app', 'users')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
