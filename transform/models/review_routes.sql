-- grain: one row per cluster and review reason that applies to it
-- materialized: table
-- priority orders the reasons; the lowest one is the item's `reason`. A
-- cluster without a row here is auto-merged.
with reason_flags as (
    select cluster_id, 1 as priority, 'restored_after_merge' as reason,
        has_restored_member as applies
    from cluster_scores
    union all
    select cluster_id, 2, 'shared_line', is_shared_line from cluster_scores
    union all
    select cluster_id, 3, 'consent_conflict', has_consent_conflict
    from cluster_scores
    union all
    select cluster_id, 4, 'cross_location',
        crosses_locations and not run_settings.allow_cross_location
    from cluster_scores cross join run_settings
    union all
    select cluster_id, 5, 'name_conflict', has_name_conflict from cluster_scores
    union all
    select cluster_id, 6, 'below_threshold', below_threshold from cluster_scores
)

select cluster_id, priority, reason
from reason_flags
where applies
