{#- Spark has no table functions in FROM like DuckDB's read_csv: the source
    shop.transactions (models/staging/_sources.yml, whose external_location only
    dbt-duckdb reads) becomes a table of Spark's catalog over the files, or a view of
    the table var('raw_transactions_table'), resolved from the same vars. Nothing is
    copied: Spark reads the files whenever staging runs. Run it before a build:
        dbt run-operation spark_register_raw_source --target spark [--vars ...]
    CSV is read as text (no schema inference): parsing belongs to staging. -#}
{% macro spark_register_raw_source() -%}
    {%- if target.type not in ('spark', 'spark_session') -%}
        {{ exceptions.raise_compiler_error("spark_register_raw_source is for the spark and spark_python targets (this is " ~ target.type ~ ")") }}
    {%- endif -%}
    {%- set table = var('raw_transactions_table') or env_var('RAW_TRANSACTIONS_TABLE', '') -%}
    {%- set path = var('raw_transactions_path') or env_var('RAW_TRANSACTIONS_PATH', 'data/demo/online_retail_demo.csv.gz') -%}
    {%- set encoding = var('raw_csv_encoding') | lower -%}
    {#- A relative path is relative to the directory dbt runs from (as on DuckDB); Spark
        would resolve it against the catalog's location instead. -#}
    {%- if not (path.startswith('/') or '://' in path) -%}
        {%- set working_directory = run_query("select reflect('java.lang.System', 'getProperty', 'user.dir')").rows[0][0] -%}
        {%- set path = working_directory ~ '/' ~ path -%}
    {%- endif -%}
    {%- set source_node = graph.sources.values() | selectattr('source_name', 'equalto', 'shop')
        | selectattr('name', 'equalto', 'transactions') | first -%}
    {%- set relation = api.Relation.create(schema=source_node.schema, identifier=source_node.identifier) -%}
    {%- do run_query('create database if not exists ' ~ source_node.schema) -%}
    {#- Spark refuses drop view on a table and drop table on a view: drop what is there. -#}
    {%- set existing = adapter.get_relation(database=none, schema=source_node.schema, identifier=source_node.identifier) -%}
    {%- if existing is not none -%}
        {%- do run_query('drop ' ~ ('view' if existing.is_view else 'table') ~ ' if exists ' ~ relation) -%}
    {%- endif -%}
    {%- if table -%}
        {%- set statement = 'create view ' ~ relation ~ ' as select * from ' ~ table -%}
    {%- elif path.endswith('.parquet') -%}
        {#- mergeSchema: files with different columns are read by name, as union_by_name. -#}
        {%- set statement = 'create table ' ~ relation ~ " using parquet options (path '" ~ path ~ "', mergeSchema 'true')" -%}
    {%- else -%}
        {%- if var('raw_csv_delimiter') == 'whitespace' -%}
            {{ exceptions.raise_compiler_error("raw_csv_delimiter 'whitespace' is not supported on Spark yet (DuckDB reads the UTF-8 copy the Python pre-flight writes): convert the file to a delimited CSV") }}
        {%- endif -%}
        {#- Spark decodes latin-1, cp1252 and the rest itself: no copy is needed.
            multiLine: a quoted field may hold a line break, as DuckDB's reader allows.
            enforceSchema false: every file's header must match the first file's. -#}
        {%- set statement = 'create table ' ~ relation ~ " using csv options (path '" ~ path
            ~ "', header 'true', inferSchema 'false', sep '" ~ var('raw_csv_delimiter')
            ~ "', quote '\"', escape '\"', encoding '" ~ encoding
            ~ "', multiLine 'true', enforceSchema 'false', mode 'PERMISSIVE')" -%}
    {%- endif -%}
    {%- do run_query(statement) -%}
    {{ log('Registered ' ~ relation ~ ': ' ~ statement, info=true) }}
{%- endmacro %}
