{#- Web and app events in one shape, each with the marketing channel its own UTM
    parameters / referrer point to (traffic_channel). Sessions take the traffic channel of
    their landing event (see int_journey__digital_events_sessionized). App events carry no
    campaign data: their traffic channel is 'direct'. The rules, in order:
      utm_medium cpc/ppc/paid_search/sem -> paid_search; paid_social/social_paid -> paid_social;
      display/banner/cpm -> display; email/e-mail/newsletter (or utm_source newsletter) -> email;
      affiliate/partner -> affiliate; social/social_media/organic_social -> organic_social;
      organic -> organic_search; referral -> referral; any other utm_medium/utm_source ->
      other_campaign; no UTM: search-engine referrer -> organic_search, social-network
      referrer (facebook, instagram, tiktok, pinterest, linkedin, twitter/x/t.co, youtube) ->
      organic_social, any other external referrer -> referral; otherwise direct. -#}
with

web_events as (
    select * from {{ ref('int_journey__web_events_stitched') }}
),

app_events as (
    select * from {{ ref('int_journey__app_events_identified') }}
),

web_events_normalized as (
    select
        web_event_id as event_id,
        'web' as source_system,
        'cookie:' || cookie_id as anonymous_key,
        customer_id,
        identity_method,
        event_type,
        page_url,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        occurred_at,
        lower(trim(utm_medium)) as medium,
        lower(trim(utm_source)) as utm_source_normalized,
        lower(trim(referrer)) as referrer_host
    from web_events
),

web_events_classified as (
    select
        event_id,
        source_system,
        anonymous_key,
        customer_id,
        identity_method,
        event_type,
        page_url,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        occurred_at,
        case
            when medium in ('cpc', 'ppc', 'paid_search', 'paidsearch', 'sem') then 'paid_search'
            when medium in ('paid_social', 'paidsocial', 'social_paid', 'social-paid')
                then 'paid_social'
            when medium in ('display', 'banner', 'cpm') then 'display'
            when
                medium in ('email', 'e-mail', 'newsletter')
                or utm_source_normalized = 'newsletter'
                then 'email'
            when medium in ('affiliate', 'affiliates', 'partner') then 'affiliate'
            when medium in ('social', 'social_media', 'social-media', 'organic_social', 'sm')
                then 'organic_social'
            when medium = 'organic' then 'organic_search'
            when medium = 'referral' then 'referral'
            when medium is not null or utm_source_normalized is not null then 'other_campaign'
            when
                referrer_host like '%google.%'
                or referrer_host like '%bing.%'
                or referrer_host like '%duckduckgo.%'
                or referrer_host like '%yahoo.%'
                or referrer_host like '%ecosia.%'
                or referrer_host like '%baidu.%'
                or referrer_host like '%yandex.%'
                then 'organic_search'
            when
                referrer_host like '%facebook.%'
                or referrer_host like '%instagram.%'
                or referrer_host like '%tiktok.%'
                or referrer_host like '%pinterest.%'
                or referrer_host like '%linkedin.%'
                or referrer_host like '%twitter.%'
                or referrer_host like '%youtube.%'
                or referrer_host = 't.co'
                or referrer_host = 'x.com'
                then 'organic_social'
            when referrer_host is not null and referrer_host != '' then 'referral'
            else 'direct'
        end as traffic_channel
    from web_events_normalized
),

app_events_normalized as (
    select
        app_event_id as event_id,
        'app' as source_system,
        'device:' || device_id as anonymous_key,
        customer_id,
        identity_method,
        event_name as event_type,
        cast(null as {{ dbt.type_string() }}) as page_url,
        cast(null as {{ dbt.type_string() }}) as referrer,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        occurred_at,
        'direct' as traffic_channel
    from app_events
),

final as (
    select * from web_events_classified
    union all
    select * from app_events_normalized
)

select * from final
