-- Backfill rows are recorded from crt.sh's row without downloading the certificate: what only
-- the certificate can tell (TBS hash, DNs, fingerprint) is unknown. tbs_sha256 '' means unknown,
-- so the unique key still holds one backfilled issuance per issuer and serial.
alter table issuance alter column issuer_dn drop not null;
alter table issuance alter column subject_dn drop not null;
alter table issuance alter column sha256_fingerprint drop not null;
alter table issuance add column downloaded boolean not null default true;

-- Rows whose certificate crt.sh could not give within the retry budget: retried later by a
-- scheduled job, so they neither block the partition nor get lost on restart.
create table pending_download (
    crtsh_id        bigint primary key,
    observed        text        not null,
    attempts        int         not null default 1,
    next_attempt_at timestamptz not null,
    last_error      text,
    first_failed_at timestamptz not null default now()
);

create index pending_download_due on pending_download (next_attempt_at);
