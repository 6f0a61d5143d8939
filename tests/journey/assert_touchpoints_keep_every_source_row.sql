-- Nothing is silently dropped: fct_touchpoints has exactly one row per staged web event,
-- app event, e-mail event and support ticket, and per fct_orders row.
-- Returns the sources whose counts differ.
with

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

source_counts as (
    select
        'web' as source_system,
        count(*) as source_rows
    from {{ ref('stg_web__events') }}
    union all
    select
        'app' as source_system,
        count(*) as source_rows
    from {{ ref('stg_app__events') }}
    union all
    select
        'newsletter' as source_system,
        count(*) as source_rows
    from {{ ref('stg_newsletter__email_events') }}
    union all
    select
        'support' as source_system,
        count(*) as source_rows
    from {{ ref('stg_support__tickets') }}
    union all
    select
        source_system,
        count(*) as source_rows
    from {{ ref('fct_orders') }}
    group by source_system
),

touchpoint_counts as (
    select
        source_system,
        count(*) as touchpoint_rows
    from touchpoints
    group by source_system
),

final as (
    select
        source_counts.source_system,
        source_counts.source_rows,
        touchpoint_counts.touchpoint_rows
    from source_counts
    left join touchpoint_counts
        on source_counts.source_system = touchpoint_counts.source_system
    where coalesce(touchpoint_counts.touchpoint_rows, 0) != source_counts.source_rows
)

select * from final
