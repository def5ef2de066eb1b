{#- The line-level rules of classified lines, checked in one scan of them (the
    classified lines are a view over staging: every separate test would classify
    every line again). It replaces one test per rule, with the same guarantees:
    - as many lines as `staged_lines` (the joins that classify add or lose no line),
      and their ids (`column_name`) unique and not null;
    - every line has a status among clean, returned, quarantined and a reason code
      of `reason_codes`;
    - clean lines have a positive quantity and unit price, and clean and returned
      lines a customer;
    - the returned lines are exactly the lines of `returned_lines`.
    Fails with one row giving every count when any rule is broken. -#}
{% test classified_lines_follow_the_rules(model, column_name, staged_lines, reason_codes, returned_lines) %}
{%- set bounds = line_id_bounds(staged_lines, column_name) -%}
with

classified as (

    select
        {{ column_name }} as transaction_line_id,
        line_status,
        reason_code,
        quantity,
        unit_price,
        customer_id
    from {{ model }}

),

rules as (

    select reason_code from {{ reason_codes }}

),

matched_returns as (

    select {{ column_name }} as transaction_line_id from {{ returned_lines }}

),

checked as (

    select
        count(*) as classified_lines,
        count(classified.transaction_line_id) as line_ids,
        {{ distinct_id_count('classified.transaction_line_id', bounds[0], bounds[1]) }} as distinct_line_ids,
        count(*) filter (
            where classified.line_status is null
            or classified.line_status not in ('clean', 'returned', 'quarantined')
        ) as lines_without_a_known_status,
        count(*) filter (
            where classified.reason_code is null
            or classified.reason_code not in (select rules.reason_code from rules)
        ) as lines_without_a_known_reason,
        count(*) filter (
            where classified.line_status = 'clean' and classified.quantity <= 0
        ) as clean_lines_without_positive_quantity,
        count(*) filter (
            where classified.line_status = 'clean' and classified.unit_price <= 0
        ) as clean_lines_without_positive_price,
        count(*) filter (
            where classified.line_status in ('clean', 'returned') and classified.customer_id is null
        ) as clean_or_returned_lines_without_customer,
        count(*) filter (
            where (classified.line_status = 'returned') != (matched_returns.transaction_line_id is not null)
        ) as returned_lines_not_matched_once,
        count(matched_returns.transaction_line_id) as matched_returns_found

    from classified
    left join matched_returns
        on classified.transaction_line_id = matched_returns.transaction_line_id

),

expected as (

    select
        (select count(*) as lines from {{ staged_lines }}) as staged_lines,
        (select count(*) as lines from matched_returns) as matched_return_lines

),

final as (

    select
        expected.staged_lines,
        expected.matched_return_lines,
        checked.*
    from checked
    cross join expected

)

select * from final
where
    classified_lines != staged_lines
    or line_ids != classified_lines
    or distinct_line_ids != classified_lines
    or lines_without_a_known_status > 0
    or lines_without_a_known_reason > 0
    or clean_lines_without_positive_quantity > 0
    or clean_lines_without_positive_price > 0
    or clean_or_returned_lines_without_customer > 0
    or returned_lines_not_matched_once > 0
    or matched_returns_found != matched_return_lines
{% endtest %}
