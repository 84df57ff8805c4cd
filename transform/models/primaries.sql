-- grain: one row per cluster
-- materialized: table
-- Survivor: most populated fields, then latest updatedAt, then lowest uid.
with ranked_members as (
    select
        cluster_id,
        uid,
        field_count,
        updated_at,
        row_number() over (
            partition by cluster_id
            order by field_count desc, updated_at desc, uid asc
        ) as survivor_rank
    from cluster_members
),

runners_up as (
    select * from ranked_members where survivor_rank = 2
)

select
    ranked_members.cluster_id,
    ranked_members.uid as primary_uid,
    case
        when ranked_members.field_count > runners_up.field_count then 'field_count'
        when ranked_members.updated_at > runners_up.updated_at then 'updated_at'
        else 'uid'
    end as primary_reason
from ranked_members
inner join runners_up on runners_up.cluster_id = ranked_members.cluster_id
where ranked_members.survivor_rank = 1
