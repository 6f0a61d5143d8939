{#-
    dbt.safe_cast on DuckDB. dbt-core's default is a plain `cast`, which fails the whole
    model on one bad value ("Conversion Error: invalid timestamp field format"); staging
    relies on a failed cast giving null so that the row is quarantined with a reason
    (<col>_unparseable, <col>_not_a_number). DuckDB's try_cast does exactly that. Other
    engines keep their adapter's safe_cast (dbt-spark: cast, null on failure).
-#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
