{#- The birth date of each customer: from the most recently updated CRM contact that has
    one (ties: the smaller contact id). -#}
{{ survivor_per_customer(
    'stg_crm__contacts', 'crm', 'contacts', key='crm_contact_id',
    where='birth_date is not null',
    order_by='updated_at desc, crm_contact_id asc',
    columns=['birth_date'],
) }}
