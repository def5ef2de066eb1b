{#- The body of a CTE that selects every column of a relation plus its position (1, 2, ...)
    as `column_name`: the line id that tells exact copies of a line apart. Used as
    `source as {{ numbered_by_position(source(...), 'source_line_number') }}`. -#}
{% macro numbered_by_position(relation, column_name) -%}
    {{ return(adapter.dispatch('numbered_by_position', 'customer_segmentation')(relation, column_name)) }}
{%- endmacro %}

{% macro default__numbered_by_position(relation, column_name) -%}
    {{ exceptions.raise_compiler_error("numbered_by_position is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- A single Parquet file numbers its own rows (file_row_number), read in parallel. Any
    other relation (CSV, glob, table) is numbered by row_number() over (), which DuckDB
    computes in one thread in the order it reads; the CTE is materialized so that only
    the reading and numbering run in that thread and the parsing downstream runs on
    every core. The relation's text is only known at run time (at parse time source()
    renders a placeholder), which is fine for SQL but not for config(). -#}
{% macro duckdb__numbered_by_position(relation, column_name) -%}
    {%- set text = relation | string -%}
    {%- set one_parquet_file = text.startswith('read_parquet(')
        and not ('*' in text or '?' in text or '[' in text) -%}
    {%- if one_parquet_file -%}
    (select file_row_number + 1 as {{ column_name }}, * from {{ relation }})
    {%- else -%}
    materialized (select row_number() over () as {{ column_name }}, * from {{ relation }})
    {%- endif -%}
{%- endmacro %}
