package dev.ctwatch.notifier.delivery;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** A row of the delivery log, for reading; rows are written by {@link DeliveryLog}'s native statements. */
@Entity
@Table(name = "delivery")
@IdClass(Delivery.Key.class)
public class Delivery extends PanacheEntityBase {
    public static final String PENDING = "PENDING";
    public static final String SENT = "SENT";
    public static final String FAILED = "FAILED";
    public static final String DEAD = "DEAD";

    @Id
    @Column(name = "issuance_key")
    public String issuanceKey;

    @Id
    public String route;

    @Id
    public String channel;

    @Id
    public String recipient;

    public String status;
    public int attempts;

    @Column(name = "first_attempt_at")
    public Instant firstAttemptAt;

    @Column(name = "delivered_at")
    public Instant deliveredAt;

    @Column(name = "last_error")
    public String lastError;

    @Column(name = "next_attempt_at")
    public Instant nextAttemptAt;

    /** Composite primary key. */
    public static class Key implements Serializable {
        public String issuanceKey;
        public String route;
        public String channel;
        public String recipient;

        public Key() {}

        public Key(String issuanceKey, String route, String channel, String recipient) {
            this.issuanceKey = issuanceKey;
            this.route = route;
            this.channel = channel;
            this.recipient = recipient;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k
                    && Objects.equals(issuanceKey, k.issuanceKey)
                    && Objects.equals(route, k.route)
                    && Objects.equals(channel, k.channel)
                    && Objects.equals(recipient, k.recipient);
        }

        @Override
        public int hashCode() {
            return Objects.hash(issuanceKey, route, channel, recipient);
        }
    }
}
