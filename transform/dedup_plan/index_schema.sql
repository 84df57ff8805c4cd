-- The natural-key index: one file per tenant, kept across runs.
create table if not exists meta (
    key text primary key,
    value text
);

-- one row per contact ever seen; gone = 1 once a full sync no longer sees it
create table if not exists contacts (
    uid text primary key,
    name_norm text not null,
    name_placeholder integer not null,
    updated_at text,
    field_count integer not null,
    seen_run integer not null,
    gone integer not null default 0,
    -- name, emails, tags, address, e164s, location_uids, consent (JSON)
    detail text not null
);

-- one row per contact and natural key it holds
create table if not exists contact_keys (
    uid text not null,
    natural_key text not null,
    number_type text,
    primary key (uid, natural_key)
) without rowid;
create index if not exists contact_keys_by_key on contact_keys (natural_key, uid);

create table if not exists locations (
    uid text primary key,
    name text,
    seen_run integer not null
);

-- one row per location and natural key of its own phone numbers
create table if not exists location_keys (
    location_uid text not null,
    natural_key text not null,
    primary key (location_uid, natural_key)
) without rowid;
create index if not exists location_keys_by_key on location_keys (natural_key);

create table if not exists plan_runs (
    run_id integer primary key,
    started_at text not null,
    finished_at text,
    mode text,
    contacts_seen integer,
    merge_plans integer,
    review_items integer
);

-- Per-connection scratch tables of one run.
-- keys this run's contacts hold now or held before it (emptied per run;
-- a real table, because a worker process writes it)
create table if not exists touched_keys (natural_key text primary key);
create temp table if not exists merged_away (uid text primary key);
