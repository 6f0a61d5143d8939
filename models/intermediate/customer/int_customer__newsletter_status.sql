{#- The newsletter subscription state of each customer: the subscription whose status
    changed last (opt-out, else double opt-in confirmation, else sign-up; ties: the
    smaller subscriber id). -#}
{{ survivor_per_customer(
    'stg_newsletter__subscribers', 'newsletter', 'subscribers', key='subscriber_id',
    derived={'status_changed_at': 'coalesce(records.opted_out_at, records.confirmed_at, records.opted_in_at)'},
    order_by='status_changed_at desc, subscriber_id',
    columns=['subscription_status', 'is_double_opt_in', 'status_changed_at'],
) }}
