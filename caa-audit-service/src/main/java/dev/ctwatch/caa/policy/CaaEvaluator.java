package dev.ctwatch.caa.policy;

import dev.ctwatch.caa.dns.CaaProperty;
import dev.ctwatch.caa.dns.CaaRecordSource;
import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.Finding;
import dev.ctwatch.events.NameAudit;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * Decides, from CAA records, whether a certificate's issuer was authorised for its names (RFC 8659
 * §3-§4 and RFC 8657, as an auditor after issuance sees them). No framework: the DNS comes in as a
 * {@link CaaRecordSource}, and nothing here blocks.
 */
public final class CaaEvaluator {
    /**
     * Tags a CA may implement; a critical property with any other tag forbids issuance. Besides the
     * three every CA must process, {@code issuemail} and {@code issuevmc} are known to some CAs:
     * counting them as known avoids false alarms.
     */
    static final Set<String> KNOWN_TAGS = Set.of("issue", "issuewild", "iodef", "issuemail", "issuevmc");

    /** The BRs let a CA rely on a CAA lookup made up to 8 hours (or the TTL) before issuance. */
    public static final Duration CAA_REUSE = Duration.ofHours(8);

    private final CaaRecordSource dns;
    private final Clock clock;

    public CaaEvaluator(CaaRecordSource dns, Clock clock) {
        this.dns = dns;
        this.clock = clock;
    }

    /** An audit and the relevant sets it was made from (one per looked-up name). */
    public record Audit(CertificateAudited audited, List<RelevantSet> sets) {}

    /**
     * Audits every DNS name of the certificate against the issuer's CAA identities. An issuer with
     * no known identities is {@link CaaVerdict#UNKNOWN_ISSUER} and no DNS is queried. A finding is
     * graded {@link Finding.Evidence#OBSERVED}; {@link #withEvidence} regrades it from history.
     */
    public CompletionStage<CertificateAudited> audit(CertificateDiscovered certificate, List<String> issuerIdentities) {
        return auditWithSets(certificate, issuerIdentities).thenApply(Audit::audited);
    }

    public CompletionStage<Audit> auditWithSets(CertificateDiscovered certificate, List<String> issuerIdentities) {
        List<String> identities = normalizeIdentities(issuerIdentities);
        if (identities.isEmpty()) {
            return CompletableFuture.completedFuture(new Audit(
                    new CertificateAudited(
                            certificate, identities, List.of(), CaaVerdict.UNKNOWN_ISSUER, null, clock.instant()),
                    List.of()));
        }
        Set<String> idSet = Set.copyOf(identities);
        List<String> dnsNames = certificate.identity() == null
                ? List.of()
                : certificate.identity().dnsNames();
        List<String> names = namesToCheck(dnsNames);
        // one climb per looked-up name: "x" and "*.x" share it
        Map<String, CompletableFuture<RelevantSet>> climbs = new LinkedHashMap<>();
        for (String name : names) {
            if (!isOnion(name)) {
                climbs.computeIfAbsent(lookupName(name), n -> relevantSet(n).toCompletableFuture());
            }
        }
        return CompletableFuture.allOf(climbs.values().toArray(CompletableFuture[]::new))
                .thenApply(ignored -> {
                    List<NameAudit> audits = names.stream()
                            .map(name -> isOnion(name)
                                    ? onion(name)
                                    : judge(
                                            name,
                                            name.startsWith("*."),
                                            climbs.get(lookupName(name)).join(),
                                            idSet,
                                            IssuanceContext.UNKNOWN))
                            .toList();
                    CaaVerdict verdict = verdict(audits);
                    Instant now = clock.instant();
                    Finding finding = verdict == CaaVerdict.POSSIBLE_NON_COMPLIANCE
                            ? finding(certificate, identities, audits, Finding.Evidence.OBSERVED, now, null)
                            : null;
                    return new Audit(
                            new CertificateAudited(certificate, identities, audits, verdict, finding, now),
                            climbs.values().stream()
                                    .map(CompletableFuture::join)
                                    .toList());
                });
    }

    private static boolean isOnion(String name) {
        return name.equals("onion") || name.endsWith(".onion");
    }

    private NameAudit onion(String name) {
        // BR 3.2.2.8: CAA is not processed for Onion Domain Names
        return new NameAudit(
                name, CaaOutcome.PERMITTED, null, List.of(), null, clock.instant(), "Onion name: CAA does not apply");
    }

    /** The names CAA governs: every dNSName, lower-cased, without a trailing dot, once. */
    static List<String> namesToCheck(List<String> dnsNames) {
        Set<String> names = new LinkedHashSet<>();
        for (String n : dnsNames) {
            String name = normalizeName(n);
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        return List.copyOf(names);
    }

    public static String normalizeName(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    /** The name CAA is looked up for: {@code x} for {@code *.x}. */
    public static String lookupName(String name) {
        return name.startsWith("*.") ? name.substring(2) : name;
    }

    /**
     * The outcome for one name: climb from the name (for {@code *.x}, from {@code x}) towards the
     * TLD and judge the first non-empty record set. A failure before that set is found is ERROR:
     * the failed level might have held it.
     */
    public CompletionStage<NameAudit> auditName(String name, List<String> issuerIdentities, IssuanceContext context) {
        Set<String> identities = Set.copyOf(normalizeIdentities(issuerIdentities));
        boolean wildcard = name.startsWith("*.");
        if (isOnion(name)) {
            return CompletableFuture.completedFuture(onion(name));
        }
        return relevantSet(lookupName(name)).thenApply(set -> judge(name, wildcard, set, identities, context));
    }

    static NameAudit judge(
            String name, boolean wildcard, RelevantSet set, Set<String> identities, IssuanceContext context) {
        return switch (set.kind()) {
            case ERROR ->
                new NameAudit(
                        name,
                        CaaOutcome.ERROR,
                        set.owner(),
                        List.of(),
                        null,
                        set.observedAt(),
                        "CAA lookup of " + set.owner() + " failed: " + set.detail());
            case NONE ->
                new NameAudit(
                        name,
                        CaaOutcome.PERMITTED,
                        null,
                        List.of(),
                        null,
                        set.observedAt(),
                        "no CAA records up to the TLD");
            case RECORDS -> {
                Decision decision = decide(set.records(), wildcard, identities, context);
                String via =
                        set.recordsOwner() != null ? " (records owned by alias target " + set.recordsOwner() + ")" : "";
                yield new NameAudit(
                        name,
                        decision.outcome(),
                        set.owner(),
                        set.presentation(),
                        set.ttlSeconds(),
                        set.observedAt(),
                        "relevant set at " + set.owner() + via + ": " + decision.detail());
            }
        };
    }

    /** The climb (RFC 8659 §3), one level after the other, for a name without {@code *.}. */
    public CompletionStage<RelevantSet> relevantSet(String name) {
        return climbFrom(name, climb(name), 0, null);
    }

    private CompletionStage<RelevantSet> climbFrom(String name, List<String> levels, int i, Instant oldest) {
        if (i == levels.size()) {
            return CompletableFuture.completedFuture(new RelevantSet(
                    name,
                    RelevantSet.Kind.NONE,
                    null,
                    null,
                    List.of(),
                    null,
                    oldest != null ? oldest : clock.instant(),
                    "no CAA records up to the TLD"));
        }
        String level = levels.get(i);
        return dns.lookup(level).thenCompose(answer -> {
            Instant at = earliest(oldest, answer.fetchedAt());
            return switch (answer.status()) {
                case ERROR ->
                    CompletableFuture.completedFuture(new RelevantSet(
                            name, RelevantSet.Kind.ERROR, level, null, List.of(), null, at, answer.detail()));
                case EMPTY -> climbFrom(name, levels, i + 1, at);
                case RECORDS ->
                    CompletableFuture.completedFuture(new RelevantSet(
                            name,
                            RelevantSet.Kind.RECORDS,
                            level,
                            answer.owner() != null && !answer.owner().equals(level) ? answer.owner() : null,
                            answer.records(),
                            answer.ttlSeconds(),
                            at,
                            answer.detail()));
            };
        });
    }

    private Instant earliest(Instant a, Instant b) {
        if (b == null) {
            return a != null ? a : clock.instant();
        }
        return a == null || b.isBefore(a) ? b : a;
    }

    /** The name, then each parent down to the TLD; the root is never queried. */
    static List<String> climb(String name) {
        List<String> domains = new ArrayList<>();
        String d = name;
        while (!d.isEmpty()) {
            domains.add(d);
            int dot = d.indexOf('.');
            d = dot < 0 ? "" : d.substring(dot + 1);
        }
        return domains;
    }

    public record Decision(CaaOutcome outcome, String detail) {}

    /** Judges the relevant record set (RFC 8659 §4, RFC 8657 for parameters). */
    public static Decision decide(
            List<CaaProperty> set, boolean wildcard, Set<String> identities, IssuanceContext context) {
        for (CaaProperty p : set) {
            if (p.critical() && !KNOWN_TAGS.contains(p.normalizedTag())) {
                return new Decision(CaaOutcome.FORBIDDEN, "unknown critical property '" + p.tag() + "'");
            }
        }
        List<CaaProperty> issuewild = withTag(set, "issuewild");
        boolean useWild = wildcard && !issuewild.isEmpty();
        String kind = useWild ? "issuewild" : "issue";
        List<CaaProperty> selected = useWild ? issuewild : withTag(set, "issue");
        if (selected.isEmpty()) {
            return new Decision(CaaOutcome.PERMITTED, "no " + kind + " property, so no restriction");
        }
        CaaProperty conditional = null;
        Set<String> named = new LinkedHashSet<>();
        for (CaaProperty p : selected) {
            IssueValue value = IssueValue.parse(p.value());
            if (!value.valid() || value.issuer() == null) {
                continue;
            }
            named.add(value.issuer());
            if (!identities.contains(value.issuer())) {
                continue;
            }
            switch (value.accepts(context)) {
                case ACCEPTS -> {
                    return new Decision(CaaOutcome.PERMITTED, "authorised by " + p.presentation());
                }
                case DEPENDS -> conditional = conditional == null ? p : conditional;
                case REJECTS -> {}
            }
        }
        if (conditional != null) {
            return new Decision(
                    CaaOutcome.CONDITIONAL,
                    "authorised only for the account or validation method in " + conditional.presentation()
                            + ", which the certificate does not show");
        }
        String others =
                named.isEmpty() ? kind + " authorises nobody" : kind + " authorises only " + String.join(", ", named);
        return new Decision(
                CaaOutcome.FORBIDDEN,
                "no " + kind + " property authorises " + String.join(", ", sorted(identities)) + "; " + others);
    }

    private static List<String> sorted(Set<String> s) {
        return s.stream().sorted().toList();
    }

    private static List<CaaProperty> withTag(List<CaaProperty> set, String tag) {
        return set.stream().filter(p -> p.normalizedTag().equals(tag)).toList();
    }

    /** FORBIDDEN anywhere wins, then ERROR or CONDITIONAL, else COMPLIANT. */
    static CaaVerdict verdict(List<NameAudit> names) {
        if (names.stream().anyMatch(n -> n.outcome() == CaaOutcome.FORBIDDEN)) {
            return CaaVerdict.POSSIBLE_NON_COMPLIANCE;
        }
        if (names.stream().anyMatch(n -> n.outcome() == CaaOutcome.ERROR || n.outcome() == CaaOutcome.CONDITIONAL)) {
            return CaaVerdict.INCONCLUSIVE;
        }
        return CaaVerdict.COMPLIANT;
    }

    /**
     * The start of the window in which the CA may have checked CAA: notBefore minus the larger of 8
     * hours and the TTL (BR 3.2.2.8), or null without a notBefore.
     */
    public static Instant windowStart(CertificateDiscovered certificate, Long maxTtlSeconds) {
        if (certificate.identity() == null || certificate.identity().notBefore() == null) {
            return null;
        }
        Duration reuse =
                maxTtlSeconds != null && Duration.ofSeconds(maxTtlSeconds).compareTo(CAA_REUSE) > 0
                        ? Duration.ofSeconds(maxTtlSeconds)
                        : CAA_REUSE;
        return certificate.identity().notBefore().minus(reuse);
    }

    /** The same audit with its finding regraded (and its wording saying so). */
    public static CertificateAudited withEvidence(
            CertificateAudited audited, Finding.Evidence evidence, Instant windowStart, String evidenceDetail) {
        if (audited.finding() == null) {
            return audited;
        }
        Finding finding = finding(
                audited.certificate(),
                audited.issuerCaaIdentities(),
                audited.names(),
                evidence,
                audited.auditedAt(),
                windowStart,
                evidenceDetail);
        return new CertificateAudited(
                audited.certificate(),
                audited.issuerCaaIdentities(),
                audited.names(),
                audited.verdict(),
                finding,
                audited.auditedAt());
    }

    private static Finding finding(
            CertificateDiscovered certificate,
            List<String> identities,
            List<NameAudit> names,
            Finding.Evidence evidence,
            Instant auditedAt,
            String evidenceDetail) {
        Long maxTtl = names.stream()
                .map(NameAudit::ttlSeconds)
                .filter(t -> t != null)
                .max(Long::compare)
                .orElse(null);
        return finding(
                certificate, identities, names, evidence, auditedAt, windowStart(certificate, maxTtl), evidenceDetail);
    }

    static Finding finding(
            CertificateDiscovered certificate,
            List<String> identities,
            List<NameAudit> names,
            Finding.Evidence evidence,
            Instant auditedAt,
            Instant windowStart,
            String evidenceDetail) {
        List<NameAudit> forbidden =
                names.stream().filter(n -> n.outcome() == CaaOutcome.FORBIDDEN).toList();
        boolean parsed = certificate.identity() != null;
        String serial =
                parsed ? certificate.identity().serialHex() : certificate.key().serialHex();
        String issuer = parsed && certificate.identity().issuerDn() != null
                ? certificate.identity().issuerDn()
                : certificate.issuerName();
        String notBefore = parsed && certificate.identity().notBefore() != null
                ? ", valid from " + certificate.identity().notBefore()
                : "";
        String perName = forbidden.stream()
                .map(n -> String.format(
                        Locale.ROOT,
                        "At %s the relevant CAA record set for %s, found at %s (TTL %s s, DNSSEC: not validated),"
                                + " was [%s]: %s.",
                        n.checkedAt(),
                        n.name(),
                        n.relevantOwner(),
                        n.ttlSeconds(),
                        String.join("; ", n.records()),
                        n.detail()))
                .collect(Collectors.joining(" "));
        String window = windowStart != null
                ? String.format(Locale.ROOT, " Evidence window: %s to %s.", windowStart, auditedAt)
                : " Evidence window: unknown (no notBefore).";
        String summary = String.format(
                Locale.ROOT,
                "Possible CAA non-compliance (unconfirmed). Certificate serial %s for %s, issued by %s"
                        + " (CAA identities: %s)%s. %s"
                        + " The CA evaluates CAA at issuance and may rely on a lookup made up to 8 hours earlier"
                        + " (or the TTL, if longer); the records may have changed.%s Evidence level: %s%s.",
                serial,
                forbidden.stream().map(NameAudit::name).collect(Collectors.joining(", ")),
                issuer,
                String.join(", ", identities),
                notBefore,
                perName,
                window,
                evidence.name().toLowerCase(Locale.ROOT),
                evidenceDetail == null ? "" : " (" + evidenceDetail + ")");
        return new Finding(
                summary,
                evidence,
                forbidden.stream().map(NameAudit::name).toList(),
                identities,
                windowStart,
                windowStart != null ? auditedAt : null);
    }

    static List<String> normalizeIdentities(List<String> identities) {
        if (identities == null) {
            return List.of();
        }
        return identities.stream()
                .map(i -> i.strip().toLowerCase(Locale.ROOT))
                .filter(i -> !i.isEmpty())
                .distinct()
                .toList();
    }
}
