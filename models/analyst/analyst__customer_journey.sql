{{ analyst_safe_select('customer_journey') }}
