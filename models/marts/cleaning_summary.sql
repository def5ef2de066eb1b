{#- What happened to the raw lines: per status and reason, how many lines,
    customers and how much value. Rules that matched nothing are listed too. -#}
with

classified as (

    select * from {{ ref('int_transaction_lines_classified') }}

),

rules as (

    select * from {{ ref('cleaning_rules') }}

),

by_reason as (

    select
        reason_code,
        count(*) as lines,
        count(distinct customer_id) as customers,
        sum(line_amount) as amount
    from classified
    group by reason_code

),

totals as (

    select count(*) as total_lines from classified

),

final as (

    select
        rules.line_status,
        rules.reason_code,
        rules.rule,
        coalesce(by_reason.lines, 0) as lines,
        cast(coalesce(by_reason.lines, 0) as double) / nullif(totals.total_lines, 0) as line_share,
        coalesce(by_reason.customers, 0) as customers,
        cast(coalesce(by_reason.amount, 0) as decimal(18, 2)) as amount,
        case
            {%- for reason_code in var('cleaning_rule_precedence') %}
            when rules.reason_code = '{{ reason_code }}' then {{ loop.index }}
            {%- endfor %}
        end as precedence

    from rules
    cross join totals
    left join by_reason on rules.reason_code = by_reason.reason_code

)

select * from final
