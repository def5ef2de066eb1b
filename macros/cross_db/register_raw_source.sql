{#- Run at the start of every dbt command (on-run-start): makes the source
    shop.transactions readable by the engine. DuckDB reads it through the source's
    external_location and needs nothing; Spark registers the raw files as a table of its
    catalog (spark_register_raw_source), so a build on Spark is one command. -#}
{% macro register_raw_source() -%}
    {{ return(adapter.dispatch('register_raw_source', 'customer_segmentation')()) }}
{%- endmacro %}

{% macro default__register_raw_source() -%}
{%- endmacro %}

{% macro spark__register_raw_source() -%}
    {%- if execute -%}
        {%- do spark_register_raw_source() -%}
    {%- endif -%}
{%- endmacro %}
