-- grain: one row per cluster and member contact
-- materialized: table
-- The clusters themselves come from dedup_plan.clusters (union-find) into
-- cluster_uids; this model adds what every later model needs per member.
with member_details as (
    select
        cluster_uids.cluster_id,
        clusters.cluster_kind,
        contacts.uid,
        contacts.name_norm,
        contacts.name_placeholder,
        contacts.updated_at,
        contacts.field_count,
        contacts.detail ->> '$.name' as name,
        contacts.detail -> '$.location_uids' as location_uids,
        contacts.detail -> '$.emails' as emails,
        contacts.detail -> '$.emails_folded' as emails_folded,
        contacts.detail -> '$.tags' as tags,
        contacts.detail -> '$.tag_labels' as tag_labels,
        contacts.detail -> '$.address' as address,
        contacts.detail -> '$.e164s' as e164s,
        contacts.detail -> '$.consent' as consent,
        contacts.detail -> '$.marketing_location_uids' as marketing_location_uids,
        merged_away.uid is not null as restored_after_merge
    from cluster_uids
    inner join clusters on clusters.cluster_id = cluster_uids.cluster_id
    inner join contacts on contacts.uid = cluster_uids.uid
    left join merged_away on merged_away.uid = cluster_uids.uid
)

-- The consent fields come from the small consent text, not the whole detail.
select
    member_details.*,
    coalesce(consent ->> '$.sms_opt_out', 0) as sms_opt_out,
    consent ->> '$.sms_opted_out_at' as sms_opted_out_at,
    coalesce(consent ->> '$.email_opt_out', 0) as email_opt_out,
    consent ->> '$.marketing_opted_in_at' as marketing_opted_in_at
from member_details
