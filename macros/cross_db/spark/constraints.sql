{#- The marts' contracts declare not_null constraints. dbt-spark applies them with
    `alter table ... change column ... set not null`, which only Delta tables accept
    (dbt-spark does it only when file_format is delta). The project's Spark tables are
    Parquet unless SEGMENTATION_SPARK_FILE_FORMAT says otherwise (+file_format in
    dbt_project.yml): there the constraint cannot live in the table, so it is checked
    once the table is written, as the alter statement checks the rows it finds, and a
    null fails the model, naming the columns. With delta, dbt-spark's own constraints
    apply. -#}
{% macro spark__persist_constraints(relation, model) -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if not contract_config.enforced -%}
        {{ return('') }}
    {%- endif -%}
    {%- if config.get('file_format', 'delta') == 'delta' -%}
        {%- do dbt.spark__persist_constraints(relation, model) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set not_null = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- for constraint in column.get('constraints', []) if constraint.get('type') == 'not_null' -%}
            {%- do not_null.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not_null -%}
        {%- set counts = [] -%}
        {%- for name in not_null -%}
            {%- do counts.append('count_if(' ~ adapter.quote(name) ~ ' is null) as ' ~ adapter.quote(name)) -%}
        {%- endfor -%}
        {%- set row = run_query('select ' ~ counts | join(', ') ~ ' from ' ~ relation).rows[0] -%}
        {%- set failed = [] -%}
        {%- for name in not_null -%}
            {%- if row[loop.index0] > 0 -%}
                {%- do failed.append(name ~ ' (' ~ row[loop.index0] ~ ' rows)') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if failed -%}
            {{ exceptions.raise_compiler_error("The contract of " ~ model.name ~ " declares not_null on columns that hold nulls: "
                ~ failed | join(', ') ~ ". A " ~ config.get('file_format') ~ " table has no constraints, so they are checked"
                ~ " once it is written; file_format delta (SEGMENTATION_SPARK_FILE_FORMAT) keeps them in the table") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
