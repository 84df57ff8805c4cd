-- grain: one row per natural key and live contact holding it
-- materialized: view
with merged_away_contacts as (
    select uid from merged_away
),

live_contacts as (
    select
        contacts.uid,
        contacts.seen_run = run_settings.run_id as seen_this_run,
        merged_away_contacts.uid is not null as listed_as_merged
    from contacts
    cross join run_settings
    left join merged_away_contacts on merged_away_contacts.uid = contacts.uid
    where contacts.gone = 0
)

-- A merged-away contact is live again only when the tap has just sent it:
-- Podium lists no merged or deleted contact, so it was restored.
select
    contact_keys.natural_key,
    contact_keys.uid,
    contact_keys.number_type,
    live_contacts.seen_this_run,
    live_contacts.listed_as_merged as restored_after_merge
from contact_keys
inner join live_contacts on live_contacts.uid = contact_keys.uid
where not live_contacts.listed_as_merged or live_contacts.seen_this_run
