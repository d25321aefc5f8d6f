{#-
    Which rows a data test reads. A build tests what changed since the last successful build began:
    records loaded since then (`loaded_at`: raw sources, staging views, core records), people whose
    records were (`users.last_loaded_at`), and rows an incremental model rewrote (`dbt_updated_at`).
    Rows older than that were tested by that build.
    Tables rebuilt from scratch carry a fresh `dbt_updated_at`, so all their rows are tested; relations
    with neither column (seeds) are tested whole. A full refresh, `--vars '{test_all_rows: true}'` (the
    nightly run) and the very first build test every row.
-#}

{% macro tests_all_rows() -%}
    {{ return(flags.FULL_REFRESH or var('test_all_rows', false)) }}
{%- endmacro %}

{#- When the last successful build began (for load times: a record loaded while it ran may have been
    missed by it) or ended (for dbt's own write times: everything it wrote is older). -#}
{% macro last_build(moment='started_at') -%}
    {{ timestamp_literal(
        "select max(" ~ moment ~ ") from ops.dbt_builds where succeeded and command = 'build'"
        ~ " and invocation_id <> '" ~ invocation_id ~ "'") }}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set scope = namespace(where=config.get('where')) -%}
    {%- if not scope.where and not tests_all_rows() and execute -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {#- the first indexed column that marks a changed row: records keep their load time, people
            their latest load time, derived rows the time dbt wrote them -#}
        {%- for marker, moment in [('loaded_at', 'started_at'), ('last_loaded_at', 'started_at'),
                                   ('dbt_updated_at', 'finished_at')] if marker in columns -%}
            {%- if not scope.where -%}
                {%- set scope.where = marker ~ ' >= ' ~ last_build(moment) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if scope.where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ scope.where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro record_build_start() -%}
    {%- if execute -%}
    insert into ops.dbt_builds (invocation_id, command, tests_all_rows)
    values ('{{ invocation_id }}', '{{ flags.WHICH }}', {{ tests_all_rows() }})
    on conflict (invocation_id) do nothing
    {%- endif -%}
{%- endmacro %}

{% macro record_build_end(results) -%}
    {%- if execute -%}
    {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list -%}
    update ops.dbt_builds
       set finished_at = now(), succeeded = {{ 'false' if failed else 'true' }}
     where invocation_id = '{{ invocation_id }}'
    {%- endif -%}
{%- endmacro %}
