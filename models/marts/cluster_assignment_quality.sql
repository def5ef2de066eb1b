{#- One row: how well the k-nearest-neighbours classifier that labels customers
    outside the fit sample reproduces the clusters (cross-validated). -#}
with

quality as (

    select * from {{ ref('int_cluster_assignment_quality') }}

),

final as (

    select
        clustering_algorithm,
        cluster_count,
        knn_neighbors,
        cv_folds,
        cv_accuracy,
        cv_macro_f1,
        labelled_customers,
        knn_assigned_customers,
        customers
    from quality

)

select * from final
