with

base as (
    select * from {{ ref('base_loyalty__members') }}
),

final as (
    select
        'loyalty.members' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('loyalty', 'members')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
