with

base as (
    select * from {{ ref('base_app__events') }}
),

final as (
    select
        'app.events' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('app', 'events')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
