-- grain: one row per cluster
-- materialized: table
with member_counts as (
    select
        cluster_id,
        cluster_kind,
        count(*) as member_count,
        max(restored_after_merge) as has_restored_member
    from cluster_members
    group by cluster_id, cluster_kind
),

pair_summaries as (
    select
        cluster_id,
        min(score) as confidence,
        max(name_conflict) as has_name_conflict,
        -- a name conflict has its own reason; other weak pairs fall short
        max(not name_conflict and score < run_settings.merge_threshold)
            as has_weak_pair
    from pair_scores
    cross join run_settings
    group by cluster_id
),

member_locations as (
    select
        cluster_members.cluster_id,
        cluster_members.uid,
        member_location.value as location_uid
    from cluster_members, json_each(cluster_members.location_uids) as member_location
),

common_locations as (
    select member_locations.cluster_id
    from member_locations
    inner join member_counts on member_counts.cluster_id = member_locations.cluster_id
    group by member_locations.cluster_id, member_locations.location_uid
    having count(distinct member_locations.uid) = max(member_counts.member_count)
),

-- Order-independent: any member's marketing opt-in that is newer than another
-- member's sms opt-out needs a person to look at the evidence.
consent_conflicts as (
    select distinct opted_in.cluster_id
    from cluster_members as opted_in
    inner join cluster_members as opted_out
        on opted_out.cluster_id = opted_in.cluster_id
        and opted_out.uid <> opted_in.uid
    where opted_in.marketing_opted_in_at > opted_out.sms_opted_out_at
)

select
    member_counts.cluster_id,
    member_counts.cluster_kind,
    member_counts.member_count,
    pair_summaries.confidence,
    member_counts.has_restored_member,
    member_counts.cluster_kind = 'shared_line' as is_shared_line,
    consent_conflicts.cluster_id is not null as has_consent_conflict,
    not exists (
        select 1 from common_locations
        where common_locations.cluster_id = member_counts.cluster_id
    ) as crosses_locations,
    coalesce(pair_summaries.has_name_conflict, 0) as has_name_conflict,
    coalesce(pair_summaries.has_weak_pair, 0) as below_threshold
from member_counts
left join pair_summaries on pair_summaries.cluster_id = member_counts.cluster_id
left join consent_conflicts
    on consent_conflicts.cluster_id = member_counts.cluster_id
