{#-
    Build status and the identity commit (customer360.build_state, docs/identity.md).

    build_status_start() (on-run-start): a writing command (build, run, seed, snapshot)
    marks build_state.build_status 'building'. A build that is killed stays 'building';
    `customer360 publish` publishes only a 'passed' build.

    build_status_end(results) (on-run-end): 'failed' when any node errored or any test
    failed, else 'dbt_passed'. When this invocation built the pending identity state
    (identity_state_pending.*) without any failure, and the caller did not defer the
    commit (env C360_DEFER_ID_COMMIT=1: `customer360 build` commits after source
    freshness and validation instead), the pending state replaces the committed
    identity_state in one transaction. Engines other than DuckDB: no-op.
-#}

{% macro build_status_is_writing() -%}
    {{ return(flags.WHICH in ['build', 'run', 'seed', 'snapshot']) }}
{%- endmacro %}

{% macro build_status_start() -%}
    {{ return(adapter.dispatch('build_status_start', 'customer360')()) }}
{%- endmacro %}

{% macro default__build_status_start() -%}
    select 1 as build_status_not_recorded
{%- endmacro %}

{% macro duckdb__build_status_start() -%}
    {%- if execute and build_status_is_writing() -%}
        {% do run_query("create schema if not exists build_state") %}
        {% do run_query("create table if not exists build_state.build_status (status varchar, invocation_id varchar, command varchar, detail varchar, updated_at timestamp)") %}
        {% do run_query("begin transaction") %}
        {% do run_query("delete from build_state.build_status") %}
        {% do run_query("insert into build_state.build_status values ('building', '" ~ invocation_id ~ "', 'dbt " ~ flags.WHICH ~ "', '', current_timestamp::timestamp)") %}
        {% do run_query("commit") %}
    {%- endif -%}
    select 1 as build_status_recorded
{%- endmacro %}

{% macro build_status_end(results) -%}
    {{ return(adapter.dispatch('build_status_end', 'customer360')(results)) }}
{%- endmacro %}

{% macro default__build_status_end(results) -%}
    select 1 as build_status_not_recorded
{%- endmacro %}

{% macro duckdb__build_status_end(results) -%}
    {%- if execute and build_status_is_writing() -%}
        {%- set failed = [] -%}
        {%- set built = [] -%}
        {%- for r in results -%}
            {%- if r.status in ['error', 'fail', 'runtime error', 'skipped'] -%}
                {%- do failed.append(r.node.unique_id) -%}
            {%- elif r.node.schema == 'identity_state_pending' -%}
                {%- do built.append(r.node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set commit = not failed and (built | length) >= 3 and env_var('C360_DEFER_ID_COMMIT', '0') != '1' -%}
        {%- set status = 'failed' if failed else 'dbt_passed' -%}
        {%- set detail = (failed | length) ~ ' failed or skipped node(s)' if failed else ('identity state committed' if commit else 'identity state not committed') -%}
        {% do run_query("begin transaction") %}
        {%- if commit -%}
            {%- for statement in identity_commit_statements() -%}
                {% do run_query(statement) %}
            {%- endfor -%}
        {%- endif -%}
        {% do run_query("update build_state.build_status set status = '" ~ status ~ "', detail = '" ~ detail ~ "', updated_at = current_timestamp::timestamp") %}
        {% do run_query("commit") %}
        {%- if commit -%}
            {% do log("customer360: identity state committed (identity_state_pending -> identity_state)", info=true) %}
        {%- endif -%}
    {%- endif -%}
    select 1 as build_status_recorded
{%- endmacro %}

{#- the statements customer360.build_state.commit_identity_state runs, for plain dbt -#}
{% macro identity_commit_statements() -%}
    {{ return([
        "create schema if not exists identity_state",
        "create or replace table identity_state.identity_registry as select * from identity_state_pending.identity_registry",
        "create or replace table identity_state.identity_record_assignments as select * from identity_state_pending.identity_record_assignments",
        "create table if not exists identity_state.identity_id_events as select * from identity_state_pending.identity_id_events limit 0",
        "insert into identity_state.identity_id_events select * from identity_state_pending.identity_id_events where invocation_id not in (select distinct invocation_id from identity_state.identity_id_events)",
    ]) }}
{%- endmacro %}
