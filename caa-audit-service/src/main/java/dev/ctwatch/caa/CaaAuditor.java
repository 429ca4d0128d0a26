package dev.ctwatch.caa;

import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Outgoing;

/** Audits each discovered certificate and publishes the result, keyed by its issuance key. */
@ApplicationScoped
public class CaaAuditor {
    static final String INCOMING = "certificates-discovered";
    static final String OUTGOING = "certificates-audited";

    private final CaaAuditService audits;

    public CaaAuditor(CaaAuditService audits) {
        this.audits = audits;
    }

    // waits for DNS (asynchronous inside) and the database; ordered, so a partition stays in order
    @Incoming(INCOMING)
    @Outgoing(OUTGOING)
    @Blocking
    public Record<String, CertificateAudited> audit(CertificateDiscovered discovered) {
        if (discovered == null) {
            // fail-on-deserialization-failure=false hands us null: let the failure strategy dead-letter it
            throw new IllegalArgumentException("record value is not a CertificateDiscovered");
        }
        return Record.of(discovered.key().toString(), audits.audit(discovered));
    }
}
