{#- The body of an analysis that lists customers of the customers mart: the
    columns the analysis declares in analyses/_analyses.yml, in that order
    (list_rank first), each the mart's column of that name or the expression
    `computed` gives for it; the customers meeting `where` (an expression over the
    mart's and the computed columns), ranked by `order_by` (over the listed
    columns), the first var analysis_top_n of them (null = all). The columns come
    from the analysis's properties, so what it returns is what it documents. -#}
{% macro customer_list(order_by, where=none, computed={}) -%}
{%- set top_n = var('analysis_top_n') -%}
{%- set columns = model.columns.keys() | reject('equalto', 'list_rank') | list -%}
with

customers as (

    select * from {{ ref('customers') }}

),

with_computed as (

    select
        {%- for name, expression in computed.items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        customers.*
    from customers

),

listed as (

    select
        {%- for column in columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from with_computed
    {%- if where %}
    where {{ where }}
    {%- endif %}

),

ranked as (

    select
        row_number() over (order by {{ order_by }}) as list_rank,
        listed.*
    from listed

),

final as (

    select * from ranked
    {%- if top_n %}
    where list_rank <= {{ top_n }}
    {%- endif %}

)

select * from final
order by list_rank
{%- endmacro %}
