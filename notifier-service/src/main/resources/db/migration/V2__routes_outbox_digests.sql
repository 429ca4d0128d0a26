-- Deliveries become an outbox: the Kafka record is acked once its rows are written, a dispatcher
-- sends due rows and reschedules failed ones (next_attempt_at), so retries survive restarts.
-- The key gains the route: one notification per issuance, route, channel and recipient.
ALTER TABLE delivery ADD COLUMN route text NOT NULL DEFAULT 'default';
ALTER TABLE delivery ALTER COLUMN route DROP DEFAULT;
ALTER TABLE delivery DROP CONSTRAINT delivery_pkey;
ALTER TABLE delivery ADD PRIMARY KEY (issuance_key, route, channel, recipient);
ALTER TABLE delivery DROP CONSTRAINT delivery_status_check;
ALTER TABLE delivery ADD CONSTRAINT delivery_status_check CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'DEAD'));
ALTER TABLE delivery ALTER COLUMN attempts SET DEFAULT 0;
-- when the dispatcher may try next (PENDING, FAILED); null once SENT or DEAD
ALTER TABLE delivery ADD COLUMN next_attempt_at timestamptz;
-- the rendered message (JSON of Outbound); rows of version 1 have none and are re-rendered on redelivery
ALTER TABLE delivery ADD COLUMN payload text;
-- the audited event (JSON) for the dead-letter topic; null for a digest (its items hold the events)
ALTER TABLE delivery ADD COLUMN event text;
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status IN ('PENDING', 'FAILED');

-- Backfill and flood digests: new certificates collected per route and watch entry, sent as one
-- message when the oldest item is older than notifier.backfill.window. digest_key is set when sent,
-- so a redelivered record is not collected twice.
CREATE TABLE digest_item (
    route        text        NOT NULL,
    watch_entry  text        NOT NULL,
    issuance_key text        NOT NULL,
    reason       text        NOT NULL CHECK (reason IN ('BACKFILL', 'FLOOD')),
    event        text        NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    digest_key   text,
    PRIMARY KEY (route, watch_entry, issuance_key)
);
CREATE INDEX digest_item_open ON digest_item (route, watch_entry, added_at) WHERE digest_key IS NULL;
