{{ analyst_safe_select('customer_id_history') }}
