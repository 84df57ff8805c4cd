-- grain: one row per pair of contacts in a cluster (shared lines excluded)
-- materialized: table
with members as (
    select * from cluster_members where cluster_kind = 'component'
),

pairs as (
    select
        first.cluster_id,
        first.uid as first_uid,
        second.uid as second_uid,
        first.name_norm as first_name,
        second.name_norm as second_name,
        first.name_placeholder as first_placeholder,
        second.name_placeholder as second_placeholder,
        first.emails_folded as first_emails,
        second.emails_folded as second_emails,
        first.tag_labels as first_tags,
        second.tag_labels as second_tags
    from members as first
    inner join members as second
        on second.cluster_id = first.cluster_id and second.uid > first.uid
),

common_keys as (
    select
        pairs.cluster_id,
        pairs.first_uid,
        pairs.second_uid,
        max(first_key.number_type in ('MOBILE', 'FIXED_LINE_OR_MOBILE'))
            as on_mobile_key
    from pairs
    inner join contact_keys as first_key on first_key.uid = pairs.first_uid
    inner join contact_keys as second_key
        on second_key.uid = pairs.second_uid
        and second_key.natural_key = first_key.natural_key
    group by pairs.cluster_id, pairs.first_uid, pairs.second_uid
),

pair_evidence as (
    select
        pairs.cluster_id,
        pairs.first_uid,
        pairs.second_uid,
        common_keys.first_uid is not null as share_key,
        coalesce(common_keys.on_mobile_key, 0) as on_mobile_key,
        not pairs.first_placeholder and not pairs.second_placeholder
            as both_real_names,
        pairs.first_name = pairs.second_name as same_name,
        exists (
            select 1
            from json_each(pairs.first_emails) as first_email
            inner join json_each(pairs.second_emails) as second_email
                on second_email.value = first_email.value
        ) as same_email,
        exists (
            select 1
            from json_each(pairs.first_tags) as first_tag
            inner join json_each(pairs.second_tags) as second_tag
                on second_tag.value = first_tag.value
        ) as shared_tag
    from pairs
    left join common_keys
        on common_keys.cluster_id = pairs.cluster_id
        and common_keys.first_uid = pairs.first_uid
        and common_keys.second_uid = pairs.second_uid
),

-- A placeholder name matches any name, but only on a mobile: a blank name on
-- a landline says nothing about who answers it.
name_points as (
    select
        *,
        case
            when both_real_names then same_name
            else on_mobile_key
        end as name_match,
        both_real_names and not same_name as name_conflict
    from pair_evidence
)

select
    name_points.cluster_id,
    name_points.first_uid,
    name_points.second_uid,
    name_points.name_match,
    name_points.same_email,
    name_points.shared_tag,
    name_points.name_conflict,
    round(
        name_points.share_key * run_settings.weight_shared_key
        + name_points.name_match * run_settings.weight_same_name
        + name_points.same_email * run_settings.weight_same_email
        + name_points.shared_tag * run_settings.weight_shared_tag,
        6
    ) as score
from name_points
cross join run_settings
