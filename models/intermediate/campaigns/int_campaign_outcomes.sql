{#- One row per campaign and audience member: what the customer bought and
    returned from the campaign's start to the end of its follow-up (the measured
    window), up to the as-of date. A member who bought nothing has zeros: the
    averages are over every member of the arm. -#}
with

members as (

    select * from {{ ref('int_campaign_audiences') }}

),

windows as (

    select
        campaign_id,
        measured_from,
        observed_until
    from {{ ref('int_campaign_windows') }}

),

lines as (

    select
        customer_id,
        invoice_no,
        invoice_date,
        line_status,
        line_amount
    from {{ ref('int_transaction_lines_classified') }}
    where line_status in ('clean', 'returned')

),

member_lines as (

    select
        members.campaign_id,
        members.customer_id,
        lines.invoice_no,
        lines.line_status,
        lines.line_amount

    from members
    inner join windows on members.campaign_id = windows.campaign_id
    inner join lines
        on
            members.customer_id = lines.customer_id
            and windows.measured_from <= lines.invoice_date
            and windows.observed_until > lines.invoice_date

),

per_member as (

    select
        campaign_id,
        customer_id,
        count(distinct case when line_status = 'clean' then invoice_no end) as orders,
        sum(case when line_status = 'clean' then line_amount else 0 end) as revenue,
        sum(case when line_status = 'returned' then abs(line_amount) else 0 end) as returned_amount
    from member_lines
    group by campaign_id, customer_id

),

final as (

    select
        members.campaign_id,
        members.customer_id,
        members.arm,
        members.rfm_segment,
        coalesce(per_member.orders, 0) as orders,
        {{ to_cents('coalesce(per_member.revenue, 0)') }} as revenue,
        {{ to_cents('coalesce(per_member.returned_amount, 0)') }} as returned_amount

    from members
    left join per_member
        on
            members.campaign_id = per_member.campaign_id
            and members.customer_id = per_member.customer_id

)

select * from final
