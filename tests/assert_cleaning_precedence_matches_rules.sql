{#- var('cleaning_rule_precedence') and seed cleaning_rules list the same
    reason codes, and valid_purchase comes last (it matches every line). -#}
with

precedence as (

    {%- for reason_code in var('cleaning_rule_precedence') %}
    select
        '{{ reason_code }}' as reason_code,
        {{ loop.index }} as position
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

rules as (

    select reason_code from {{ ref('cleaning_rules') }}

)

select
    coalesce(precedence.reason_code, rules.reason_code) as reason_code,
    'not in both' as problem
from precedence
full outer join rules on precedence.reason_code = rules.reason_code
where precedence.reason_code is null or rules.reason_code is null
union all
select
    reason_code,
    'valid_purchase must be last' as problem
from precedence
where reason_code = 'valid_purchase' and position != {{ var('cleaning_rule_precedence') | length }}
