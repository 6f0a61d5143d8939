with

base as (
    select * from {{ ref('base_support__tickets') }}
),

final as (
    select
        'support.tickets' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('support', 'tickets')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
