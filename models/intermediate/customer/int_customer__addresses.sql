{#- The postal address of each customer: street, postal code, city and country of the most
    recently updated CRM contact that has any of street, postal code or city (ties: the
    smaller contact id). -#}
{{ survivor_per_customer(
    'stg_crm__contacts', 'crm', 'contacts', key='crm_contact_id',
    where='street is not null or postal_code is not null or city is not null',
    order_by='updated_at desc, crm_contact_id asc',
    columns=['street', 'postal_code', 'city', 'country_code'],
) }}
