{{ analyst_safe_select('churn_model_metrics') }}
