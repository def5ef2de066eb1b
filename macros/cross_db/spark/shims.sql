{#- TEMPORARY, for the port's groundwork only: SQL functions that DuckDB has and
    Spark lacks, created as Spark SQL functions so that models still written in
    DuckDB's dialect run unchanged. Each one marks a model that must move the
    construct behind a dispatched macro (see the README, "Apache Spark (work in
    progress)"); the port removes this file.
    - isfinite(x): models/staging/stg_shop__transactions.sql (is_quantity_number,
      is_price_number). -#}
{% macro spark_register_shims() -%}
    {%- do run_query("create or replace function default.isfinite(x double) returns boolean
        return not (isnan(x) or x = double('inf') or x = double('-inf'))") -%}
{%- endmacro %}
