{#- The probabilistic tier's declaration: var identity_probabilistic (settings, blocking,
    comparisons) plus, per source, `probabilistic: {attribute: column}` in its
    config.meta.identity. Attributes: first_name, last_name, birth_date, street, postcode,
    city, email, phone, id_number (any subset). -#}

{% macro identity_probabilistic_settings() -%}
    {{ return(var('identity_probabilistic', {'enabled': false})) }}
{%- endmacro %}

{#- The sources taking part (declared, and the tier enabled), each with `index`: its
    position in var identity_source_models (node signatures hash it). While dbt parses
    (declarations not read yet) every identity source is returned, so that the refs are
    recorded. -#}
{% macro identity_probabilistic_sources() -%}
    {%- set out = [] -%}
    {%- for s in identity_sources() -%}
        {%- set part = (not execute) or (s.probabilistic and identity_probabilistic_settings().get('enabled', false)) -%}
        {%- if part -%}
            {%- set d = {} -%}
            {%- do d.update(s) -%}
            {%- do d.update({'index': loop.index0}) -%}
            {%- do out.append(d) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- SQL for attribute `attr` of source `s` (a text column; birth_date a date) in the
    tier's standard form (null if the source does not declare it): names letters only, birth date YYYYMMDD, street lower
    case with single spaces, e-mail local part, phone as staged (E.164), id number as staged
    (letters and digits, upper case: macro normalize_id_number). -#}
{% macro identity_probabilistic_attribute(s, attr) -%}
    {%- set col = (s.probabilistic or {}).get(attr) -%}
    {%- if col is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- elif attr in ['first_name', 'last_name'] -%}
        nullif(regexp_replace(lower({{ col }}), '[^a-z]', '', 'g'), '')
    {%- elif attr == 'birth_date' -%}
        strftime(cast({{ col }} as date), '%Y%m%d')
    {%- elif attr in ['street', 'city'] -%}
        nullif(trim(regexp_replace(lower({{ col }}), '[^a-z0-9äöüß]+', ' ', 'g')), '')
    {%- elif attr == 'postcode' -%}
        nullif(upper(regexp_replace({{ col }}, '\s+', '', 'g')), '')
    {%- elif attr == 'email' -%}
        nullif(split_part({{ col }}, '@', 1), '')
    {%- else -%}
        nullif(trim({{ col }}), '')
    {%- endif -%}
{%- endmacro %}
