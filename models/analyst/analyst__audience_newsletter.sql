{{ analyst_safe_select('audience_newsletter') }}
