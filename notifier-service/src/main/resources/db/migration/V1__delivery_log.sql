-- One row per (issuance, channel, recipient): the claim that makes a notification exactly-once.
-- status SENT: delivered, never sent again. status FAILED: last attempt failed, the next one may claim it.
CREATE TABLE delivery (
    issuance_key     text        NOT NULL,
    channel          text        NOT NULL,
    recipient        text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('SENT', 'FAILED')),
    attempts         int         NOT NULL DEFAULT 1,
    first_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    last_error       text,
    PRIMARY KEY (issuance_key, channel, recipient)
);
