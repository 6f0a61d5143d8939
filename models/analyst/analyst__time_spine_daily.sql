{{ analyst_safe_select('time_spine_daily') }}
