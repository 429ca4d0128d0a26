-- Backfill rows are recorded without their certificate; a low-priority job downloads each one
-- later (BackfillCompletion). A row waits here from the transaction that records it until its
-- certificate was downloaded and compared, or crt.sh refused it for good (dead-letter topic).
-- The observed record is kept so a late anomaly is emitted with the row's watch matches.
create table backfill_download (
    crtsh_id        bigint primary key references crtsh_entry (crtsh_id) on delete cascade,
    observed        text        not null,
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error      text,
    queued_at       timestamptz not null default now()
);

create index backfill_download_due on backfill_download (next_attempt_at, crtsh_id);

-- Filled in from the certificate (new issuances and completed backfill); null when unknown.
alter table issuance add column authority_key_id text;

-- Issuances backfilled before this migration: queue their rows, rebuilt from what was stored.
-- The watch matches were not stored, so an anomaly found for these carries none.
insert into backfill_download (crtsh_id, observed)
select e.crtsh_id,
       json_build_object(
           'row', json_build_object(
               'id', e.crtsh_id,
               'issuer_ca_id', i.issuer_ca_id,
               'issuer_name', i.issuer_name,
               'common_name', case when i.subject_dn like 'CN=%' then substr(i.subject_dn, 4) end,
               'name_value', i.dns_names,
               'not_before', to_char(i.not_before at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'),
               'not_after', to_char(i.not_after at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'),
               'serial_number', i.serial_hex),
           'matches', json_build_array(),
           'fetchedAt', to_char(e.first_seen_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'backfill', true)::text
from crtsh_entry e
join issuance i on i.id = e.issuance_id
where i.tbs_sha256 = '';
