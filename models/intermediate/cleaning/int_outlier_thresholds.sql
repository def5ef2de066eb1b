{#- One row: the quantity and line-value thresholds above which a line is an
    outlier. With outlier_method = 'iqr' they come from the lines that would be
    valid purchases but for the outlier rules: exp(q3 + multiplier * iqr) of
    the natural logarithm, robust to the very extremes it is meant to catch.
    With 'cap' they are the fixed caps. -#}
with

candidates as (

    select
        ln(quantity) as log_quantity,
        ln(line_amount) as log_line_amount
    from {{ ref('int_transaction_lines_flagged') }}
    where {{ cleaning_reason(exclude=['outlier_quantity', 'outlier_value']) }} = 'valid_purchase'

),

log_quartiles as (

    select
        count(*) as candidate_lines,
        percentile_cont(0.25) within group (order by log_quantity) as log_quantity_q1,
        percentile_cont(0.75) within group (order by log_quantity) as log_quantity_q3,
        percentile_cont(0.25) within group (order by log_line_amount) as log_line_amount_q1,
        percentile_cont(0.75) within group (order by log_line_amount) as log_line_amount_q3
    from candidates

),

-- sqlfluff:indentation:template_blocks_indent:true
final as (

    select
        '{{ var("outlier_method") }}' as outlier_method,
        candidate_lines,
        {% if var('outlier_method') == 'iqr' %}
            exp(log_quantity_q3 + {{ var('outlier_iqr_multiplier') }} * (log_quantity_q3 - log_quantity_q1))
                as quantity_threshold,
            exp(log_line_amount_q3 + {{ var('outlier_iqr_multiplier') }} * (log_line_amount_q3 - log_line_amount_q1))
                as line_amount_threshold
        {% elif var('outlier_method') == 'cap' %}
            cast({{ var('outlier_quantity_cap') }} as double) as quantity_threshold,
            cast({{ var('outlier_line_value_cap') }} as double) as line_amount_threshold
        {% elif execute %}
        {#- Unreachable after validate_settings (on-run-start); kept for `dbt compile`. -#}
        {{ exceptions.raise_compiler_error("var outlier_method must be 'iqr' or 'cap', got '" ~ var('outlier_method') ~ "'") }}
        {% endif %}

    from log_quartiles

)

select * from final
