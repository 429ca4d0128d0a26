package dev.ctwatch.caa;

import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.NameAudit;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Outgoing;
import org.jboss.logging.Logger;

/** Audits each discovered certificate and publishes the result, keyed by its issuance key. */
@ApplicationScoped
public class CaaAuditor {
    static final String INCOMING = "certificates-discovered";
    static final String OUTGOING = "certificates-audited";
    static final String NAMES = "ctwatch.audit.names";
    static final String CERTIFICATES = "ctwatch.audit.certificates";
    static final String UNKNOWN_ISSUER = "ctwatch.audit.unknown.issuer";
    static final String DNS_LOOKUP = "ctwatch.audit.dns.lookup";
    private static final Logger LOG = Logger.getLogger(CaaAuditor.class);

    private final IssuerCaaMap issuers;
    private final CaaEvaluator evaluator;
    private final MeterRegistry registry;

    public CaaAuditor(CaaAuditConfig config, MeterRegistry registry) {
        this.registry = registry;
        this.issuers = IssuerCaaMap.fromClasspath(config.issuers());
        CaaLookup dns = CaaLookup.create(
                config.dns().servers(), config.dns().timeout(), config.dns().retries());
        this.evaluator = new CaaEvaluator(timed(dns, registry), Clock.systemUTC());
        registerMeters(registry);
    }

    // every series exists from the start, so rates and alerts see zero rather than nothing
    private static void registerMeters(MeterRegistry registry) {
        for (CaaOutcome outcome : CaaOutcome.values()) {
            registry.counter(NAMES, "outcome", outcome.name());
        }
        for (CaaVerdict verdict : CaaVerdict.values()) {
            registry.counter(CERTIFICATES, "verdict", verdict.name());
        }
        registry.counter(UNKNOWN_ISSUER);
        for (CaaAnswer.Status status : CaaAnswer.Status.values()) {
            registry.timer(DNS_LOOKUP, "status", status.name());
        }
    }

    // DNS is blocking I/O; ordered, so records of one partition are audited in order
    @Incoming(INCOMING)
    @Outgoing(OUTGOING)
    @Blocking
    public Record<String, CertificateAudited> audit(CertificateDiscovered discovered) {
        if (discovered == null) {
            // fail-on-deserialization-failure=false hands us null: let the failure strategy dead-letter it
            throw new IllegalArgumentException("record value is not a CertificateDiscovered");
        }
        CertificateIdentity identity = discovered.identity();
        List<String> identities = identity != null
                ? issuers.identities(
                        identity.authorityKeyId(),
                        identity.issuerDn() != null ? identity.issuerDn() : discovered.issuerName())
                : issuers.identities(null, discovered.issuerName());
        CertificateAudited audited = evaluator.audit(discovered, identities);
        count(audited);
        if (audited.verdict() == CaaVerdict.POSSIBLE_NON_COMPLIANCE) {
            LOG.infof("%s: %s", discovered.key(), audited.finding().summary());
        }
        return Record.of(discovered.key().toString(), audited);
    }

    private void count(CertificateAudited audited) {
        for (NameAudit name : audited.names()) {
            registry.counter(NAMES, "outcome", name.outcome().name()).increment();
        }
        registry.counter(CERTIFICATES, "verdict", audited.verdict().name()).increment();
        if (audited.verdict() == CaaVerdict.UNKNOWN_ISSUER) {
            registry.counter(UNKNOWN_ISSUER).increment();
        }
    }

    private static CaaRecordSource timed(CaaRecordSource dns, MeterRegistry registry) {
        return name -> {
            Timer.Sample sample = Timer.start(registry);
            CaaAnswer answer = dns.lookup(name);
            sample.stop(registry.timer(DNS_LOOKUP, "status", answer.status().name()));
            return answer;
        };
    }
}
