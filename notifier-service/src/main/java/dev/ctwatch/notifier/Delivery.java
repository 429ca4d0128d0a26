package dev.ctwatch.notifier;

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
    public static final String SENT = "SENT";
    public static final String FAILED = "FAILED";

    @Id
    @Column(name = "issuance_key")
    public String issuanceKey;

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

    /** Composite primary key. */
    public static class Key implements Serializable {
        public String issuanceKey;
        public String channel;
        public String recipient;

        public Key() {}

        public Key(String issuanceKey, String channel, String recipient) {
            this.issuanceKey = issuanceKey;
            this.channel = channel;
            this.recipient = recipient;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k
                    && Objects.equals(issuanceKey, k.issuanceKey)
                    && Objects.equals(channel, k.channel)
                    && Objects.equals(recipient, k.recipient);
        }

        @Override
        public int hashCode() {
            return Objects.hash(issuanceKey, channel, recipient);
        }
    }
}
