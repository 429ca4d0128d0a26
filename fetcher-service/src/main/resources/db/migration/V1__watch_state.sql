-- One row per watch entry that was ever polled; survives restarts so a restart is no second backfill.
create table watch_state (
    domain           varchar(253) primary key,
    first_success_at timestamp with time zone,
    last_success_at  timestamp with time zone,
    last_poll_at     timestamp with time zone not null,
    last_outcome     varchar(32)              not null,
    last_rows        bigint                   not null,
    last_truncated   boolean                  not null
);
