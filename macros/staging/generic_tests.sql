{#- Generic data tests of the staging layer (dbt_utils is not available offline). -#}

{#- no two rows share the combination of `columns` -#}
{% test unique_key_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#-
    Every raw row is accounted for: rows in the raw export = rows staged (the model under
    test) + rows quarantined + rows erased (privacy erasure requests, docs/privacy.md).
    The raw count comes from an independent reader (raw_row_counts: pyarrow), and the rows
    DuckDB's reader returned must equal it. Returns one row describing the gap.
-#}
{% test raw_rows_reconcile(model, raw, quarantine) %}
with counts as (
    select
        (
            select counted.raw_rows from {{ ref('raw_row_counts') }} as counted
            where counted.source_table = '{{ raw.schema }}.{{ raw.identifier }}'
        ) as raw_rows,
        (select count(*) from {{ raw }}) as read_rows,
        (select count(*) from {{ model }}) as staged_rows,
        (select count(*) from {{ quarantine }}) as quarantined_rows,
        (
            select coalesce(sum(erased_rows), 0) from {{ ref('privacy_erased_rows') }}
            where source_table = '{{ raw.schema }}.{{ raw.identifier }}'
        ) as erased_rows
)

select *
from counts
where raw_rows is null
    or raw_rows <> staged_rows + quarantined_rows + erased_rows
    or raw_rows <> read_rows
{% endtest %}

{#- fails for each table whose quarantine rate exceeds var `quarantine_max_rate` (default 5%) -#}
{% test quarantine_rate_below_threshold(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} > {{ var('quarantine_max_rate', 0.05) }}
{% endtest %}
