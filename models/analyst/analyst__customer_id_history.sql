{#- erased IDs are left out: their tombstone stays in the restricted registry (docs/privacy.md) -#}
{{ analyst_safe_select('customer_id_history', where="status <> 'erased'") }}
