-- grain: one row per natural key held by two or more live contacts
-- materialized: table
-- Counting every key first needs only the key index; liveness is then
-- checked for the few keys that more than one contact holds.
with candidate_keys as (
    select natural_key
    from contact_keys
    group by natural_key
    having count(*) >= 2
),

key_holders as (
    select
        key_members.natural_key,
        count(*) as holder_count
    from candidate_keys
    inner join key_members on key_members.natural_key = candidate_keys.natural_key
    group by key_members.natural_key
    having count(*) >= 2
),

business_lines as (
    select distinct natural_key from location_keys
)

select
    key_holders.natural_key,
    key_holders.holder_count,
    business_lines.natural_key is not null as is_business_line,
    business_lines.natural_key is not null
    or key_holders.holder_count > run_settings.max_contacts_per_key
        as is_shared_line
from key_holders
cross join run_settings
left join business_lines on business_lines.natural_key = key_holders.natural_key
