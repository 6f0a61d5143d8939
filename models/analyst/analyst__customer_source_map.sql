{{ analyst_safe_select('customer_source_map') }}
