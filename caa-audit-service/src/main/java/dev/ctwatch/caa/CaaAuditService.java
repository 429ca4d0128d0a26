package dev.ctwatch.caa;

import dev.ctwatch.caa.dns.CaaAnswer;
import dev.ctwatch.caa.dns.CaaCache;
import dev.ctwatch.caa.dns.CaaLookup;
import dev.ctwatch.caa.dns.CaaRecordSource;
import dev.ctwatch.caa.history.CaaHistory;
import dev.ctwatch.caa.history.EvidenceGrader;
import dev.ctwatch.caa.issuer.IssuerCaaMap;
import dev.ctwatch.caa.policy.CaaEvaluator;
import dev.ctwatch.caa.policy.IssuanceContext;
import dev.ctwatch.caa.policy.RelevantSet;
import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.Finding;
import dev.ctwatch.events.NameAudit;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Wires the plain pieces together: issuer map, cached asynchronous DNS, evaluator, history (store
 * observations, grade findings), snapshots, and the metrics around them.
 */
@ApplicationScoped
public class CaaAuditService {
    static final String NAMES = "ctwatch.audit.names";
    static final String CERTIFICATES = "ctwatch.audit.certificates";
    static final String UNKNOWN_ISSUER = "ctwatch.audit.unknown.issuer";
    static final String DNS_LOOKUP = "ctwatch.audit.dns.lookup";
    static final String DNS_CACHE = "ctwatch.audit.dns.cache";
    static final String FINDINGS = "ctwatch.audit.findings";
    static final String SNAPSHOT_NAMES = "ctwatch.audit.snapshot.names";
    static final String HISTORY_ERRORS = "ctwatch.audit.history.errors";
    private static final Logger LOG = Logger.getLogger(CaaAuditService.class);
    private static final int SNAPSHOT_BATCH = 500;

    private final IssuerCaaMap issuers;
    private final CaaCache cache;
    private final CaaEvaluator evaluator;
    private final CaaEvaluator freshEvaluator;
    private final EvidenceGrader grader;
    private final CaaHistory history;
    private final CaaAuditConfig config;
    private final MeterRegistry registry;
    private final ExecutorService dnsExecutor;

    public CaaAuditService(CaaAuditConfig config, CaaHistory history, MeterRegistry registry) {
        this.config = config;
        this.history = history;
        this.registry = registry;
        this.issuers = IssuerCaaMap.fromClasspath(config.issuers());
        this.dnsExecutor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "caa-dns");
            t.setDaemon(true);
            return t;
        });
        CaaLookup dns = CaaLookup.create(
                config.dns().servers(),
                config.dns().timeout(),
                config.dns().retries(),
                config.dns().maxAliases(),
                dnsExecutor);
        Clock clock = Clock.systemUTC();
        this.cache = new CaaCache(
                timed(dns, registry),
                clock,
                config.cache().minTtl(),
                config.cache().maxTtl(),
                config.cache().maxEntries());
        this.evaluator = new CaaEvaluator(cache, clock);
        // snapshots ask DNS afresh (and refresh the cache on the way)
        this.freshEvaluator = new CaaEvaluator(cache::refresh, clock);
        this.grader = new EvidenceGrader(config.history().maxGap());
        registerMeters();
    }

    // every series exists from the start, so rates and alerts see zero rather than nothing
    private void registerMeters() {
        for (CaaOutcome outcome : CaaOutcome.values()) {
            registry.counter(NAMES, "outcome", outcome.name());
        }
        for (CaaVerdict verdict : CaaVerdict.values()) {
            registry.counter(CERTIFICATES, "verdict", verdict.name());
        }
        for (Finding.Evidence evidence : Finding.Evidence.values()) {
            registry.counter(FINDINGS, "evidence", evidence.name());
        }
        registry.counter(UNKNOWN_ISSUER);
        registry.counter(SNAPSHOT_NAMES);
        registry.counter(HISTORY_ERRORS);
        for (CaaAnswer.Status status : CaaAnswer.Status.values()) {
            registry.timer(DNS_LOOKUP, "status", status.name());
        }
        FunctionCounter.builder(DNS_CACHE, cache, CaaCache::hits)
                .tag("result", "hit")
                .register(registry);
        FunctionCounter.builder(DNS_CACHE, cache, CaaCache::misses)
                .tag("result", "miss")
                .register(registry);
        FunctionCounter.builder(DNS_CACHE, cache, CaaCache::coalesced)
                .tag("result", "coalesced")
                .register(registry);
    }

    /** Audits one certificate: DNS, then history (observations stored, finding graded). Blocks. */
    public CertificateAudited audit(CertificateDiscovered discovered) {
        if (discovered.key() == null) {
            return auditKeyed(discovered);
        }
        // every log line about this certificate carries its issuance key (a JSON field in prod)
        MDC.put("issuanceKey", discovered.key().toString());
        try {
            return auditKeyed(discovered);
        } finally {
            MDC.remove("issuanceKey");
        }
    }

    private CertificateAudited auditKeyed(CertificateDiscovered discovered) {
        CertificateIdentity identity = discovered.identity();
        List<String> identities = identity != null
                ? issuers.identities(
                        identity.authorityKeyId(),
                        identity.issuerDn() != null ? identity.issuerDn() : discovered.issuerName())
                : issuers.identities(null, discovered.issuerName());
        CaaEvaluator.Audit audit = evaluator
                .auditWithSets(discovered, identities)
                .toCompletableFuture()
                .join();
        CertificateAudited audited = audit.audited();
        if (audited.verdict() != CaaVerdict.UNKNOWN_ISSUER) {
            audited = recordAndGrade(audit);
        }
        count(audited);
        if (audited.verdict() == CaaVerdict.POSSIBLE_NON_COMPLIANCE) {
            LOG.infof("%s: %s", discovered.key(), audited.finding().summary());
        }
        return audited;
    }

    private CertificateAudited recordAndGrade(CaaEvaluator.Audit audit) {
        CertificateAudited audited = audit.audited();
        try {
            // the climbs just made are observations too (their answers may come from the cache)
            history.record(audit.sets());
            history.watch(audit.sets().stream().map(RelevantSet::queriedName).toList(), audited.auditedAt());
            return audited.finding() == null ? audited : grade(audited);
        } catch (RuntimeException e) {
            registry.counter(HISTORY_ERRORS).increment();
            LOG.warnf(
                    e,
                    "%s: CAA history unavailable, finding stays OBSERVED",
                    audited.certificate().key());
            return audited;
        }
    }

    private CertificateAudited grade(CertificateAudited audited) {
        Instant start = audited.finding().evidenceWindowStart();
        Instant end = audited.auditedAt();
        Set<String> identities = Set.copyOf(audited.issuerCaaIdentities());
        Finding.Evidence weakest = Finding.Evidence.SUSTAINED;
        List<String> details = new ArrayList<>();
        for (NameAudit name : audited.names()) {
            if (name.outcome() != CaaOutcome.FORBIDDEN) {
                continue;
            }
            String lookupName = CaaEvaluator.lookupName(name.name());
            EvidenceGrader.Grade grade = start == null
                    ? new EvidenceGrader.Grade(Finding.Evidence.OBSERVED, "no evidence window")
                    : grader.grade(
                            history.observations(
                                    lookupName, start.minus(config.history().maxGap()), end),
                            start,
                            end,
                            name.name().startsWith("*."),
                            identities);
            if (grade.evidence() == Finding.Evidence.OBSERVED) {
                weakest = Finding.Evidence.OBSERVED;
            }
            details.add(name.name() + ": " + grade.detail());
        }
        return CaaEvaluator.withEvidence(audited, weakest, start, String.join("; ", details));
    }

    /** Looks up every watched name afresh and stores the answers; returns how many names. */
    public int snapshot() {
        Instant now = Instant.now();
        List<String> names = history.watchedNames(now.minus(config.history().watchFor()));
        for (int from = 0; from < names.size(); from += SNAPSHOT_BATCH) {
            List<CompletableFuture<RelevantSet>> pending =
                    names.subList(from, Math.min(names.size(), from + SNAPSHOT_BATCH)).stream()
                            .map(n -> freshEvaluator.relevantSet(n).toCompletableFuture())
                            .toList();
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
            history.record(pending.stream().map(CompletableFuture::join).toList());
        }
        registry.counter(SNAPSHOT_NAMES).increment(names.size());
        return names.size();
    }

    /** The check API: one name, any CAA identities, optionally the account and method. */
    public CompletionStage<NameAudit> check(String name, List<String> caaIdentities, IssuanceContext context) {
        return evaluator.auditName(name, caaIdentities, context);
    }

    @PreDestroy
    void stop() {
        dnsExecutor.shutdownNow();
    }

    public CaaCache cache() {
        return cache;
    }

    private void count(CertificateAudited audited) {
        for (NameAudit name : audited.names()) {
            registry.counter(NAMES, "outcome", name.outcome().name()).increment();
        }
        registry.counter(CERTIFICATES, "verdict", audited.verdict().name()).increment();
        if (audited.verdict() == CaaVerdict.UNKNOWN_ISSUER) {
            registry.counter(UNKNOWN_ISSUER).increment();
        }
        if (audited.finding() != null) {
            registry.counter(FINDINGS, "evidence", audited.finding().evidence().name())
                    .increment();
        }
    }

    private static CaaRecordSource timed(CaaLookup dns, MeterRegistry registry) {
        return name -> {
            Timer.Sample sample = Timer.start(registry);
            return dns.lookup(name)
                    .whenComplete((answer, failure) -> sample.stop(registry.timer(
                            DNS_LOOKUP,
                            "status",
                            answer != null ? answer.status().name() : "ERROR")));
        };
    }
}
