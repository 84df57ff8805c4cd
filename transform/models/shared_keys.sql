-- grain: one row per natural key held by two or more live contacts
-- materialized: table
with key_holders as (
    select
        natural_key,
        count(*) as holder_count
    from key_members
    group by natural_key
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
