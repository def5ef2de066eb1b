{#- The position of each line in the export. A file source (the table
    spark_register_raw_source creates over the CSV or Parquet files) is ordered by
    file path, then by the split of the file and the row within it, which is the
    order of the lines in the files, as DuckDB numbers them. monotonically_increasing_id
    orders rows within a split; the window has one partition, so the numbering runs on
    one core, like DuckDB's row_number() over (). Any other relation (a table or view
    given by raw_transactions_table) has no file order: its rows are numbered in the
    order Spark reads them. row_number() is a 32-bit int on Spark: the id is a bigint,
    as on DuckDB (and the marts' contracts). -#}
{% macro spark__numbered_by_position(relation, column_name) -%}
    {%- set file_backed = execute and spark_relation_is_file_source(relation) -%}
    (
        select
            cast(row_number() over (
                order by
                {%- if file_backed %}
                _metadata.file_path, _metadata.file_block_start,
                {%- endif %}
                monotonically_increasing_id()
            ) as bigint) as {{ column_name }},
            *
        from {{ relation }}
    )
{%- endmacro %}

{#- True when the relation is a table over files (csv, parquet, json, orc), which
    exposes the _metadata column. -#}
{% macro spark_relation_is_file_source(relation) -%}
    {%- set described = run_query('describe table extended ' ~ relation) -%}
    {%- for row in described.rows if row[0] == 'Provider' -%}
        {{ return(row[1] | lower in ['csv', 'parquet', 'json', 'orc', 'text']) }}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}
