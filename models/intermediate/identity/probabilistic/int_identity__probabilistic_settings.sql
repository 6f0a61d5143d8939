{{ config(materialized='view') }}
{#- var identity_probabilistic as JSON, for the Python scoring model (which cannot read
    vars): one row. -#}

with

final as (

    select
        {{ 'true' if identity_probabilistic_settings().get('enabled', false) else 'false' }} as is_enabled,
        '{{ tojson(identity_probabilistic_settings()) | replace("'", "''") }}' as settings_json

)

select * from final
