with

base as (
    select * from {{ ref('base_web__events') }}
),

final as (
    select
        'web.events' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('web', 'events')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
