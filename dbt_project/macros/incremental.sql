{#- The bounded predicate of an incremental model: only input rows loaded after the newest input this
    model has already processed (`watermark`, a column of the model). True when building from scratch.
    The watermark is read when the model is compiled and written into its SQL as a literal, so the
    planner can estimate how few rows pass and read them through the index on `column`. -#}
{% macro loaded_after_watermark(column='loaded_at', watermark='loaded_at') -%}
    {%- if is_incremental() -%}
        {{ column }} > {{ timestamp_literal("select max(" ~ watermark ~ ") from " ~ this) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The single timestamp `query` returns, as a SQL literal ('-infinity' when it returns null). -#}
{% macro timestamp_literal(query) -%}
    {%- if execute -%}
        {%- set value = run_query("select coalesce((" ~ query ~ "), '-infinity'::timestamptz)::text").columns[0].values()[0] -%}
        '{{ value }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}
