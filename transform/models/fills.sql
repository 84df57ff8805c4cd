-- grain: one row per cluster
-- materialized: table
-- Values the primary lacks and a duplicate has; the best-ranked duplicate
-- (same order as the survivor rule) gives a value when several could.
with survivors as (
    select cluster_members.*
    from cluster_members
    inner join primaries
        on primaries.cluster_id = cluster_members.cluster_id
        and primaries.primary_uid = cluster_members.uid
),

duplicates as (
    select
        cluster_members.*,
        row_number() over (
            partition by cluster_members.cluster_id
            order by
                cluster_members.field_count desc,
                cluster_members.updated_at desc,
                cluster_members.uid asc
        ) as duplicate_rank
    from cluster_members
    inner join primaries
        on primaries.cluster_id = cluster_members.cluster_id
        and primaries.primary_uid <> cluster_members.uid
),

name_fills as (
    select
        survivors.cluster_id,
        (
            select duplicates.name from duplicates
            where
                duplicates.cluster_id = survivors.cluster_id
                and not duplicates.name_placeholder
            order by duplicates.duplicate_rank
            limit 1
        ) as name
    from survivors
    where survivors.name_placeholder
),

email_candidates as (
    select
        duplicates.cluster_id,
        lower(email.value) as folded,
        email.value as email,
        row_number() over (
            partition by duplicates.cluster_id, lower(email.value)
            order by duplicates.duplicate_rank, email.value
        ) as pick
    from duplicates, json_each(duplicates.emails) as email
    inner join survivors on survivors.cluster_id = duplicates.cluster_id
    where lower(email.value) not in (
        select lower(value) from json_each(survivors.emails)
    )
),

address_candidates as (
    select
        duplicates.cluster_id,
        part.key as part,
        part.value,
        row_number() over (
            partition by duplicates.cluster_id, part.key
            order by duplicates.duplicate_rank
        ) as pick
    from duplicates, json_each(duplicates.address) as part
    inner join survivors on survivors.cluster_id = duplicates.cluster_id
    where
        trim(coalesce(part.value, '')) <> ''
        and trim(coalesce((
            select own.value from json_each(survivors.address) as own
            where own.key = part.key
        ), '')) = ''
),

tag_candidates as (
    select
        duplicates.cluster_id,
        json_extract(tag.value, '$.uid') as tag_uid,
        json_extract(tag.value, '$.label') as label,
        row_number() over (
            partition by duplicates.cluster_id, json_extract(tag.value, '$.uid')
            order by duplicates.duplicate_rank
        ) as pick
    from duplicates, json_each(duplicates.tags) as tag
    inner join survivors on survivors.cluster_id = duplicates.cluster_id
    where json_extract(tag.value, '$.uid') not in (
        select json_extract(own.value, '$.uid') from json_each(survivors.tags) as own
    )
),

phone_candidates as (
    select distinct duplicates.cluster_id, phone.value as e164
    from duplicates, json_each(duplicates.e164s) as phone
    inner join survivors on survivors.cluster_id = duplicates.cluster_id
    where phone.value not in (select value from json_each(survivors.e164s))
),

location_candidates as (
    select distinct duplicates.cluster_id, location.value as location_uid
    from duplicates, json_each(duplicates.location_uids) as location
    inner join survivors on survivors.cluster_id = duplicates.cluster_id
    where location.value not in (
        select value from json_each(survivors.location_uids)
    )
)

select
    survivors.cluster_id,
    name_fills.name,
    (
        select json_group_array(email) from email_candidates
        where cluster_id = survivors.cluster_id and pick = 1
    ) as emails,
    (
        select json_group_object(part, value) from address_candidates
        where cluster_id = survivors.cluster_id and pick = 1
    ) as address,
    (
        select json_group_array(json_object('uid', tag_uid, 'label', label))
        from tag_candidates
        where cluster_id = survivors.cluster_id and pick = 1
    ) as tags,
    (
        select json_group_array(e164) from phone_candidates
        where cluster_id = survivors.cluster_id
    ) as phones,
    (
        select json_group_array(location_uid) from location_candidates
        where cluster_id = survivors.cluster_id
    ) as locations
from survivors
left join name_fills on name_fills.cluster_id = survivors.cluster_id
