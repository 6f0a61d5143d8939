{{ analyst_safe_select('identity_audit') }}
