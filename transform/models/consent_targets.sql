-- grain: one row per cluster
-- materialized: table
-- Any opt-out wins; marketing at a location survives only if every member
-- that belongs to that location is opted in there.
with opt_outs as (
    select
        cluster_id,
        max(sms_opt_out) as sms_opt_out,
        max(email_opt_out) as email_opt_out
    from cluster_members
    group by cluster_id
),

offered_locations as (
    select distinct
        cluster_members.cluster_id,
        offered.value as location_uid
    from cluster_members,
        json_each(cluster_members.marketing_location_uids) as offered
),

withheld_locations as (
    select distinct
        offered_locations.cluster_id,
        offered_locations.location_uid
    from offered_locations
    inner join cluster_members
        on cluster_members.cluster_id = offered_locations.cluster_id
    where
        offered_locations.location_uid in (
            select value from json_each(cluster_members.location_uids)
        )
        and offered_locations.location_uid not in (
            select value from json_each(cluster_members.marketing_location_uids)
        )
),

kept_locations as (
    select offered_locations.cluster_id, offered_locations.location_uid
    from offered_locations
    inner join opt_outs on opt_outs.cluster_id = offered_locations.cluster_id
    where
        not opt_outs.sms_opt_out
        and not exists (
            select 1 from withheld_locations
            where withheld_locations.cluster_id = offered_locations.cluster_id
            and withheld_locations.location_uid = offered_locations.location_uid
        )
)

select
    opt_outs.cluster_id,
    opt_outs.sms_opt_out,
    opt_outs.email_opt_out,
    (
        select json_group_array(kept_locations.location_uid)
        from kept_locations
        where kept_locations.cluster_id = opt_outs.cluster_id
    ) as marketing_opted_in_location_uids
from opt_outs
