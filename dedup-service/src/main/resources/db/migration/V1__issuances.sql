-- One row per issuance. Serial as lowercase hex without leading zeros, so integer-equal serials
-- are string-equal; the TBS hash is part of the key, so a reused serial becomes a second row.
create table issuance (
    id                 bigserial primary key,
    issuer_ca_id       bigint      not null,
    serial_hex         text        not null,
    tbs_sha256         text        not null,
    issuer_name        text        not null,
    issuer_dn          text        not null,
    subject_dn         text        not null,
    dns_names          text        not null,
    not_before         timestamptz not null,
    not_after          timestamptz not null,
    precertificate     boolean     not null,
    sha256_fingerprint text        not null,
    anomaly            text,
    first_seen_at      timestamptz not null default now(),
    constraint issuance_identity unique (issuer_ca_id, serial_hex, tbs_sha256)
);

create index issuance_not_after on issuance (not_after);

-- Every crt.sh id seen; the primary key makes "first sighting" one atomic insert.
create table crtsh_entry (
    crtsh_id      bigint primary key,
    issuance_id   bigint references issuance (id) on delete cascade,
    first_seen_at timestamptz not null default now()
);

create index crtsh_entry_issuance on crtsh_entry (issuance_id);
