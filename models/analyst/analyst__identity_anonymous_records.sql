{{ analyst_safe_select('identity_anonymous_records') }}
