{{ analyst_safe_select('clv_model_fit') }}
