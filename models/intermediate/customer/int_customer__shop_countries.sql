{#- The country of each customer's most recently updated shop account that has one (ties:
    the smaller account id); dim_customer uses it when the CRM has no address. -#}
{{ survivor_per_customer(
    'stg_shop__customers', 'shop', 'customers', key='shop_customer_id',
    where='country_code is not null',
    order_by='updated_at desc, shop_customer_id asc',
    columns=['country_code'],
) }}
