{#- From-segment x to-segment counts and value between consecutive snapshots of
    customer_segment_history, for RFM segments and for clusters. Customers in the
    later snapshot only are entries (from_segment '(new customer)'); customers in
    the earlier one only would be exits (to_segment '(gone)'): a snapshot keeps
    every customer who ever bought, so a lapsing customer moves to a lapsed
    segment instead. Labels rather than nulls keep the matrix's key not null. -#}
with

history as (

    select * from {{ ref('customer_segment_history') }}

),

pairs as (

    select
        snapshot_date,
        previous_snapshot_date
    from {{ ref('int_segment_history_snapshots') }}
    where previous_snapshot_date is not null

),

memberships as (

    {{ segment_memberships('history', ['snapshot_date', 'customer_id', 'monetary']) }}

),

{#- Each pair's members on both sides: current_members in the later snapshot,
    previous_members in the earlier one. -#}
{%- for side, pair_date in [('current', 'snapshot_date'), ('previous', 'previous_snapshot_date')] %}

{{ side }}_members as (

    select
        pairs.snapshot_date,
        pairs.previous_snapshot_date,
        memberships.customer_id,
        memberships.segment_type,
        memberships.segment_name,
        memberships.monetary
    from pairs
    inner join memberships on pairs.{{ pair_date }} = memberships.snapshot_date

),
{%- endfor %}

moves as (

    select
        coalesce(current_members.snapshot_date, previous_members.snapshot_date) as snapshot_date,
        coalesce(
            current_members.previous_snapshot_date, previous_members.previous_snapshot_date
        ) as previous_snapshot_date,
        coalesce(current_members.segment_type, previous_members.segment_type) as segment_type,
        coalesce(previous_members.segment_name, '(new customer)') as from_segment,
        coalesce(current_members.segment_name, '(gone)') as to_segment,
        previous_members.customer_id is null as is_entry,
        current_members.customer_id is null as is_exit,
        previous_members.monetary as previous_monetary,
        current_members.monetary
    from current_members
    full outer join previous_members
        on
            current_members.snapshot_date = previous_members.snapshot_date
            and current_members.customer_id = previous_members.customer_id
            and current_members.segment_type = previous_members.segment_type

),

final as (

    select
        snapshot_date,
        previous_snapshot_date,
        segment_type,
        from_segment,
        to_segment,
        case
            when is_entry then 'entry'
            when is_exit then 'exit'
            when from_segment = to_segment then 'stayed'
            else 'moved'
        end as movement,
        count(*) as customers,
        cast(coalesce(sum(previous_monetary), 0) as decimal(18, 2)) as previous_monetary,
        cast(coalesce(sum(monetary), 0) as decimal(18, 2)) as monetary
    from moves
    group by
        snapshot_date,
        previous_snapshot_date,
        segment_type,
        from_segment,
        to_segment,
        movement

)

select * from final
