{#- The one seam that attaches a customer to a staged record: the current customer_id of
    every record of `source_system`.`source_table` that belongs to a known customer
    (customer_source_map), with the record key named `key_as`, so a model joins it on
    its own key column. Records of no customer are absent (left join: customer_id null).

        order_customers as (
            {{ customer_of_records('shop', 'orders', key_as='order_id') }}
        ),
        ...
        left join order_customers on shop_orders.order_id = order_customers.order_id
-#}
{% macro customer_of_records(source_system, source_table, key_as) -%}
    select
        record_key as {{ key_as }},
        customer_id
    from {{ ref('customer_source_map') }}
    where source_system = '{{ source_system }}' and source_table = '{{ source_table }}'
{%- endmacro %}
