{{ analyst_safe_select('fct_orders') }}
