{#- One row: the snapshot this build describes and the settings its numbers
    depend on, so that readers (the report, the dashboard, BI tools) need no
    other table and no dbt var to label them. -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    select
        as_of.as_of_date,
        as_of.is_configured as as_of_date_is_configured,
        as_of.last_transaction_date,
        cast({{ text_literal(var('currency')) }} as {{ dbt.type_string() }}) as currency,
        cast({{ var('high_returner_threshold') }} as double) as high_returner_threshold,
        cast({{ var('control_group_share') }} as double) as control_group_share,
        cast({{ var('rfm_bins') }} as integer) as rfm_bins

    from as_of

)

select * from final
