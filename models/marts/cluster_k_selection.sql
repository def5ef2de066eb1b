{#- One row per candidate k: the metrics the number of clusters was chosen by
    (the elbow and silhouette charts are drawn from it). -#}
with

selection as (

    select * from {{ ref('int_kmeans_k_selection') }}

),

final as (

    select
        k,
        inertia,
        silhouette,
        calinski_harabasz,
        davies_bouldin,
        smallest_cluster_share,
        is_eligible,
        is_elbow,
        is_chosen,
        selection_rule,
        customers,
        fit_sample_size,
        silhouette_sample_size,
        note
    from selection

)

select * from final
