{#- Per customer, their returned lines: all of them, and the part matched to
    purchases in the data (which is what the return rate uses). -#}
with

returns as (

    select * from {{ ref('int_return_lines_matched') }}

),

final as (

    select
        customer_id,
        count(*) as return_lines,
        count(case when match_status != 'unmatched' then 1 end) as matched_return_lines,
        count(case when match_status = 'unmatched' then 1 end) as unmatched_return_lines,
        cast(sum(returned_amount) as decimal(18, 2)) as returned_amount,
        cast(sum(matched_amount) as decimal(18, 2)) as matched_return_amount

    from returns
    group by customer_id

)

select * from final
