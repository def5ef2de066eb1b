{#- At least one customer to segment: the model (one row per customer) is not empty.
    Without one there is nothing to segment (every line cancelled, or without a
    customer, or an as_of_date before the data): the build fails here, before the
    clustering models, with what happened to the lines, rather than publishing empty
    marts. `lines_identifier` and `as_of_identifier` name the classified lines and
    the as-of date relations read for that message; they are read by name, not
    ref(), so that the test has one parent (the model whose children it holds back). -#}
{% test there_are_customers_to_segment(model, lines_identifier, as_of_identifier) %}
{%- set check -%}
select count(*) as customers
from {{ model }}
having count(*) = 0
{%- endset -%}

{%- if execute and flags.WHICH in ('build', 'test', 'retry') -%}
    {%- set failed = run_query(check) -%}
    {%- if failed.rows | length > 0 -%}
        {%- set classified = adapter.get_relation(
            database=target.database, schema=target.schema, identifier=lines_identifier) -%}
        {%- set as_of = adapter.get_relation(
            database=target.database, schema=target.schema, identifier=as_of_identifier) -%}
        {%- set reasons = run_query(
            "select reason_code, count(*) as lines from " ~ classified ~ " group by 1 order by 2 desc, 1"
        ) if classified else none -%}
        {%- set dates = run_query(
            "select as_of_date, last_transaction_date from " ~ as_of) if as_of else none -%}
        {%- set fate = [] -%}
        {%- for row in (reasons.rows if reasons else []) -%}
            {%- do fate.append(row['reason_code'] ~ ' ' ~ row['lines']) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "No customers to segment: no line is a clean purchase with a customer before the as-of date"
            ~ (" " ~ dates.rows[0]['as_of_date'] ~ " (last dated line " ~ dates.rows[0]['last_transaction_date'] ~ ")"
                if dates and dates.rows else "")
            ~ ". The lines were: " ~ (fate | join(', ') or 'none') ~ ". Check var raw_columns.customer_id (is it the "
            ~ "customer column?), var as_of_date (is it after the data?) and var cancellation_invoice_prefix "
            ~ "(does it match every invoice?)."
        ) }}
    {%- endif -%}
{%- endif -%}

{{ check }}
{% endtest %}
