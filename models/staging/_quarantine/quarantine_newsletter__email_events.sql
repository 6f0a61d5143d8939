with

base as (
    select * from {{ ref('base_newsletter__email_events') }}
),

final as (
    select
        'newsletter.email_events' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('newsletter', 'email_events')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
