{{ analyst_safe_select('fct_consent_events') }}
