{{ analyst_safe_select('customer_consent') }}
