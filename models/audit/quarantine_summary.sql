{#- one row per raw table: raw rows (counted independently by raw_row_counts), rows
    DuckDB's reader returned, staged rows, quarantined rows, rows erased by
    privacy erasure requests (docs/privacy.md) and the quarantine rate -#}
{%- set tables = [
    ('shop', 'customers'), ('shop', 'orders'), ('shop', 'order_lines'),
    ('crm', 'contacts'), ('support', 'tickets'),
    ('newsletter', 'subscribers'), ('newsletter', 'email_events'),
    ('app', 'users'), ('app', 'devices'), ('app', 'events'),
    ('web', 'events'), ('loyalty', 'members'), ('loyalty', 'pos_transactions'),
] %}

with

{% for system, name in tables %}
counts_{{ system }}__{{ name }} as (
    select
        '{{ system }}.{{ name }}' as source_table,
        (
            select counted.raw_rows from {{ ref('raw_row_counts') }} as counted
            where counted.source_table = '{{ system }}.{{ name }}'
        ) as raw_rows,
        (select count(*) from {{ source(system, name) }}) as read_rows,
        (select count(*) from {{ ref('stg_' ~ system ~ '__' ~ name) }}) as staged_rows,
        (select count(*) from {{ ref('quarantine_' ~ system ~ '__' ~ name) }}) as quarantined_rows,
        (
            select coalesce(sum(erased_rows), 0) from {{ ref('privacy_erased_rows') }}
            where source_table = '{{ system }}.{{ name }}'
        ) as erased_rows
),
{% endfor %}

all_counts as (
    {% for system, name in tables %}
    select * from counts_{{ system }}__{{ name }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        source_table,
        cast(raw_rows as bigint) as raw_rows,
        cast(read_rows as bigint) as read_rows,
        cast(staged_rows as bigint) as staged_rows,
        cast(quarantined_rows as bigint) as quarantined_rows,
        cast(erased_rows as bigint) as erased_rows,
        cast(
            coalesce(raw_rows, -1) - staged_rows - quarantined_rows - erased_rows
            + abs(coalesce(raw_rows, -1) - read_rows) as bigint
        ) as unaccounted_rows,
        case
            when raw_rows > 0 then cast(quarantined_rows as double) / raw_rows
            else 0
        end as quarantine_rate
    from all_counts
)

select * from final
