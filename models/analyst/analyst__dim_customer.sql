{{ analyst_safe_select('dim_customer') }}
