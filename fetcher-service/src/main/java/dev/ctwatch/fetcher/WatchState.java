package dev.ctwatch.fetcher;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** What the fetcher remembers of an entry across restarts: above all, whether it ever succeeded. */
@Entity
@Table(name = "watch_state")
public class WatchState extends PanacheEntityBase {
    @Id
    public String domain;

    @Column(name = "first_success_at")
    public Instant firstSuccessAt;

    @Column(name = "last_success_at")
    public Instant lastSuccessAt;

    @Column(name = "last_poll_at", nullable = false)
    public Instant lastPollAt;

    @Column(name = "last_outcome", nullable = false)
    public String lastOutcome;

    @Column(name = "last_rows", nullable = false)
    public long lastRows;

    @Column(name = "last_truncated", nullable = false)
    public boolean lastTruncated;
}
