{#-
    The few engine-specific string functions the staging layer needs, behind
    adapter.dispatch so that a Spark (or other) implementation can be added without
    touching the models. Each returns a SQL expression.
-#}

{#- true when the whole string matches the (RE2/Java) regular expression -#}
{% macro regexp_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'customer360')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_full_match(expr, pattern) -%}
    ({{ expr }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}


{#- the string with every character that is not 0-9 removed -#}
{% macro digits_only(expr) -%}
    {{ return(adapter.dispatch('digits_only', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__digits_only(expr) -%}
    regexp_replace({{ expr }}, '[^0-9]', '', 'g')
{%- endmacro %}

{% macro spark__digits_only(expr) -%}
    regexp_replace({{ expr }}, '[^0-9]', '')
{%- endmacro %}


{#- runs of whitespace collapsed to one space -#}
{% macro collapse_whitespace(expr) -%}
    {{ return(adapter.dispatch('collapse_whitespace', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__collapse_whitespace(expr) -%}
    regexp_replace({{ expr }}, '\s+', ' ', 'g')
{%- endmacro %}

{% macro spark__collapse_whitespace(expr) -%}
    regexp_replace({{ expr }}, '\\s+', ' ')
{%- endmacro %}


{#- diacritics removed (é -> e, å -> a); DuckDB has strip_accents built in -#}
{% macro strip_accents(expr) -%}
    {{ return(adapter.dispatch('strip_accents', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__strip_accents(expr) -%}
    strip_accents({{ expr }})
{%- endmacro %}

{% macro spark__strip_accents(expr) -%}
    translate({{ expr }}, 'àáâãåāăąçćčďèéêëēėęěğìíîïīįıłñńňòóôõøōőřśşšťùúûůūűųýÿźżž',
                          'aaaaaaaacccdeeeeeeeegiiiiiiilnnnooooooorsssstuuuuuuuyyzzz')
{%- endmacro %}


{#- a fast 64-bit fingerprint of a row's columns (to tell exact from conflicting duplicates) -#}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'customer360')(columns)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    hash({% for c in columns %}{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro spark__row_fingerprint(columns) -%}
    xxhash64({% for c in columns %}{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}


{#-
    let(value, name, body): evaluates `value` once and binds it to `name` inside `body`
    (a SQL expression). Keeps nested normalisation expressions linear in size instead of
    repeating sub-expressions textually.
-#}
{% macro let(value, name, body) -%}
    {{ return(adapter.dispatch('let', 'customer360')(value, name, body)) }}
{%- endmacro %}

{% macro default__let(value, name, body) -%}
    list_transform([{{ value }}], lambda {{ name }}: {{ body }})[1]
{%- endmacro %}

{% macro spark__let(value, name, body) -%}
    transform(array({{ value }}), {{ name }} -> {{ body }})[0]
{%- endmacro %}
