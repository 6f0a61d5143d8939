with

base as (
    select * from {{ ref('base_crm__contacts') }}
),

final as (
    select
        'crm.contacts' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('crm', 'contacts')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
