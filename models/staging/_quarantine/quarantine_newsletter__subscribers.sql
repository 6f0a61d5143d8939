with

base as (
    select * from {{ ref('base_newsletter__subscribers') }}
),

final as (
    select
        'newsletter.subscribers' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('newsletter', 'subscribers')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
