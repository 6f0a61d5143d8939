{#-
    Engine differences outside staging's string functions, behind adapter.dispatch
    (DuckDB is the default; Spark has its own form). Each returns SQL or a config value.
-#}

{#- last_value(expr) over (...) skipping nulls: `{{ last_value_ignore_nulls(x) }} over (...)` -#}
{% macro last_value_ignore_nulls(expr) -%}
    {{ return(adapter.dispatch('last_value_ignore_nulls', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__last_value_ignore_nulls(expr) -%}
    last_value({{ expr }} ignore nulls)
{%- endmacro %}

{% macro spark__last_value_ignore_nulls(expr) -%}
    last_value({{ expr }}, true)
{%- endmacro %}


{#- the group's values of `expr` joined by `delimiter` (a SQL string literal) in the order
    of `order_expr` (ties by value); dbt-spark's listagg drops the order by -#}
{% macro ordered_string_agg(expr, delimiter, order_expr) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'customer360')(expr, delimiter, order_expr)) }}
{%- endmacro %}

{% macro default__ordered_string_agg(expr, delimiter, order_expr) -%}
    {{ dbt.listagg(expr, delimiter, 'order by ' ~ order_expr ~ ', ' ~ expr) }}
{%- endmacro %}

{% macro spark__ordered_string_agg(expr, delimiter, order_expr) -%}
    array_join(transform(array_sort(collect_list(struct({{ order_expr }} as k, {{ expr }} as v))), x -> x.v), {{ delimiter }})
{%- endmacro %}


{#- incremental strategy of the persistent state tables that are replaced as a whole in
    every build (identity_state): DuckDB deletes and inserts in one transaction; dbt-spark
    has no delete+insert, and insert_overwrite without partitions replaces the table -#}
{% macro state_replace_strategy() -%}
    {{ return(adapter.dispatch('state_replace_strategy', 'customer360')()) }}
{%- endmacro %}

{% macro default__state_replace_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__state_replace_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}
