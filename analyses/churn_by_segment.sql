{#- Churn by RFM segment: for every segment of customer_churn (champions, loyal, ...,
    lost), how many buyers it holds, the churn rate observed in the last complete window
    (share of labelled customers without a purchase in churn_window_days after the label
    cutoff) and the predicted churn risk for the next window (trained model and the
    model-free CLV score). -#}
with

churn as (

    select * from {{ ref('analyst__customer_churn') }}

),

final as (

    select
        rfm_segment,
        count(*) as customers,
        sum(case when churned_last_window is not null then 1 else 0 end) as labelled_customers,
        sum(case when churned_last_window then 1 else 0 end) as churned_customers,
        avg(case when churned_last_window then 1.0 when not churned_last_window then 0.0 end)
            as observed_churn_rate,
        avg(churn_score_model) as predicted_churn_rate_model,
        avg(churn_score_clv) as predicted_churn_rate_clv,
        avg(recency_days) as avg_recency_days,
        avg(purchase_days) as avg_purchase_days,
        avg(monetary_base) as avg_monetary_base,
        cast(count(*) as double) / sum(count(*)) over () as share_of_customers
    from churn
    group by rfm_segment

)

select * from final
order by predicted_churn_rate_model desc
