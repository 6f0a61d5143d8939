{#- Survivorship: of the candidate rows in `candidates` (a CTE or relation) that pass
    `where`, keep the first per `partition_by` in the order `order_by`, as `columns`. The one
    `row_number() ... = 1` of the golden record (models/intermediate/customer): each
    int_customer__* model states its candidates and its rule, this macro picks. -#}
{% macro survivorship_pick(candidates, partition_by, order_by, columns, where=none) -%}
    select
        {{ columns | join(',\n        ') }}
    from (
        select
            *,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ order_by }}
            ) as survivor_rank
        from {{ candidates }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
    ) as ranked
    where survivor_rank = 1
{%- endmacro %}

{#- A survivorship job over one staging model: its records attached to their customer
    (customer_of_records), the candidates that pass `where`, and per customer the first
    by `order_by`, as `columns`. `derived` ({name: SQL expression}) adds computed
    candidate columns that `where`, `order_by` and `columns` may use. -#}
{% macro survivor_per_customer(model, source_system, source_table, key, order_by, columns, where=none, derived={}) -%}
with

records as (

    select * from {{ ref(model) }}

),

record_customers as (

    {{ customer_of_records(source_system, source_table, key_as=key) }}

),

candidates as (

    select
        record_customers.customer_id,
        {%- for name, expression in derived.items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        records.*
    from records
    inner join record_customers
        on records.{{ key }} = record_customers.{{ key }}

),

final as (

    {{ survivorship_pick(
        'candidates',
        partition_by='customer_id',
        order_by=order_by,
        columns=['customer_id'] + columns,
        where=where,
    ) | indent(4) }}

)

select * from final
{%- endmacro %}
