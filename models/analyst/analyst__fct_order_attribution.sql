{{ analyst_safe_select('fct_order_attribution') }}
