{#- The incremental config of a model whose rows come in groups that a run adds or
    replaces whole (the snapshots of a history, the audiences of campaigns), keyed by
    `partition_column`. Used as
    `config(materialized='incremental', **incremental_by_partition('snapshot_date', 'append'))`.
    DuckDB keeps `strategy` ('append': a run only adds new groups; 'delete+insert': a
    run replaces the groups it computes). Spark tables over Parquet have no DELETE and
    dbt-spark no delete+insert: the table is partitioned by the column and a run
    overwrites the partitions it computes (insert_overwrite, dynamic), which does what
    either strategy does. -#}
{% macro incremental_by_partition(partition_column, strategy) -%}
    {{ return(adapter.dispatch('incremental_by_partition', 'customer_segmentation')(partition_column, strategy)) }}
{%- endmacro %}

{% macro default__incremental_by_partition(partition_column, strategy) -%}
    {%- if strategy not in ['append', 'delete+insert'] -%}
        {{ exceptions.raise_compiler_error("incremental_by_partition: strategy must be 'append' or 'delete+insert', not '" ~ strategy ~ "'") }}
    {%- endif -%}
    {%- set settings = {'incremental_strategy': strategy} -%}
    {%- if strategy == 'delete+insert' -%}
        {%- do settings.update({'unique_key': partition_column}) -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}

{% macro spark__incremental_by_partition(partition_column, strategy) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [partition_column]}) }}
{%- endmacro %}

{#- SQL (for a pre-hook) that removes from a table made by incremental_by_partition
    every group whose `partition_column` value the query `kept_values_sql` does not
    return. An empty hook where nothing is to be removed. -#}
{% macro delete_partitions_not_in(relation, partition_column, kept_values_sql) -%}
    {{ return(adapter.dispatch('delete_partitions_not_in', 'customer_segmentation')(relation, partition_column, kept_values_sql)) }}
{%- endmacro %}

{% macro default__delete_partitions_not_in(relation, partition_column, kept_values_sql) -%}
    delete from {{ relation }} where {{ partition_column }} not in ({{ kept_values_sql }})
{%- endmacro %}

{#- Spark drops the partitions themselves (a Parquet table has no DELETE): the stale
    values are read first, each one's partition dropped; the hook itself is empty. -#}
{% macro spark__delete_partitions_not_in(relation, partition_column, kept_values_sql) -%}
    {%- if execute -%}
        {%- set stale = run_query('select distinct ' ~ partition_column ~ ' from ' ~ relation
            ~ ' where ' ~ partition_column ~ ' not in (' ~ kept_values_sql ~ ')') -%}
        {%- for row in stale.rows -%}
            {%- do run_query('alter table ' ~ relation ~ ' drop if exists partition ('
                ~ partition_column ~ ' = ' ~ text_literal(row[0] | string) ~ ')') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
