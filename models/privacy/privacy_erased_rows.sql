{#- Raw rows removed by erasure requests, per raw table (docs/privacy.md): the staging
    reconciliation is raw = staged + quarantined + erased. Counts only, no values. When no
    erasure was ever requested every count is 0 without reading the exports. -#}
{%- set rules = privacy_erasure_rules() %}
{%- set active = privacy_suppressions_relation() is not none %}

with

{% for source_table in rules.keys() | sort %}
{%- set system, table = source_table.split('.') %}
erased_{{ system }}__{{ table }} as (

    -- reads {{ source(system, table) }}
    select
        '{{ source_table }}' as source_table,
        {% if active -%}
        count(*) as erased_rows
    from {{ source(system, table) }}
    where {{ privacy_is_erased(system, table) }}
        {%- else -%}
        0 as erased_rows
        {%- endif %}

),

{% endfor -%}

all_counts as (

    {% for source_table in rules.keys() | sort -%}
    {%- set system, table = source_table.split('.') %}
    select * from erased_{{ system }}__{{ table }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        source_table,
        cast(erased_rows as bigint) as erased_rows
    from all_counts

)

select * from final
