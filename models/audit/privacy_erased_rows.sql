{#- Raw rows removed by erasure requests, per raw table (docs/privacy.md): the staging
    reconciliation is raw = staged + quarantined + erased. Counts only, no values. When no
    erasure was ever requested the filter is `false` and DuckDB skips reading the exports. -#}
{%- set rules = privacy_erasure_rules() %}

with

erased_counts as (

    {% for source_table in rules.keys() | sort -%}
    {%- set system, table = source_table.split('.') %}
    select
        '{{ source_table }}' as source_table,
        count(*) as erased_rows
    from {{ source(system, table) }}
    where {{ privacy_is_erased(system, table) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        source_table,
        cast(erased_rows as bigint) as erased_rows
    from erased_counts

)

select * from final
