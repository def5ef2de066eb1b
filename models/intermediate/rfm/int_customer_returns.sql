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
        {{ to_cents('sum(returned_amount)') }} as returned_amount,
        {{ to_cents('sum(matched_amount)') }} as matched_return_amount

    from returns
    group by customer_id

)

select * from final
