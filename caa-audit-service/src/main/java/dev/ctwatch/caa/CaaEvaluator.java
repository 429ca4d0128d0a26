package dev.ctwatch.caa;

import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.Finding;
import dev.ctwatch.events.NameAudit;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides, from CAA records, whether a certificate's issuer was authorised for its names (RFC 8659
 * §3-§4 and RFC 8657, as an auditor after issuance sees them). No framework: the DNS comes in as a
 * {@link CaaRecordSource}.
 */
public final class CaaEvaluator {
    /**
     * Tags a CA may implement; a critical property with any other tag forbids issuance. Besides the
     * three every CA must process, {@code issuemail} and {@code issuevmc} are known to some CAs:
     * counting them as known avoids false alarms.
     */
    static final Set<String> KNOWN_TAGS = Set.of("issue", "issuewild", "iodef", "issuemail", "issuevmc");

    private final CaaRecordSource dns;
    private final Clock clock;

    public CaaEvaluator(CaaRecordSource dns, Clock clock) {
        this.dns = dns;
        this.clock = clock;
    }

    /**
     * Audits every DNS name of the certificate against the issuer's CAA identities. An issuer with
     * no known identities is {@link CaaVerdict#UNKNOWN_ISSUER} and no DNS is queried.
     */
    public CertificateAudited audit(CertificateDiscovered certificate, List<String> issuerIdentities) {
        List<String> identities = normalizeIdentities(issuerIdentities);
        Instant now = clock.instant();
        if (identities.isEmpty()) {
            return new CertificateAudited(certificate, identities, List.of(), CaaVerdict.UNKNOWN_ISSUER, null, now);
        }
        List<String> dnsNames = certificate.identity() == null
                ? List.of()
                : certificate.identity().dnsNames();
        List<NameAudit> names = namesToCheck(dnsNames).stream()
                .map(name -> auditName(name, identities))
                .toList();
        CaaVerdict verdict = verdict(names);
        Finding finding =
                verdict == CaaVerdict.POSSIBLE_NON_COMPLIANCE ? finding(certificate, identities, names) : null;
        return new CertificateAudited(certificate, identities, names, verdict, finding, now);
    }

    /** The names CAA governs: every dNSName, lower-cased, without a trailing dot, once. */
    static List<String> namesToCheck(List<String> dnsNames) {
        Set<String> names = new LinkedHashSet<>();
        for (String n : dnsNames) {
            String name = n.strip().toLowerCase(Locale.ROOT);
            if (name.endsWith(".")) {
                name = name.substring(0, name.length() - 1);
            }
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        return List.copyOf(names);
    }

    /**
     * The outcome for one name: climb from the name (for {@code *.x}, from {@code x}) towards the
     * TLD and judge the first non-empty record set. A failure before that set is found is ERROR:
     * the failed level might have held it.
     */
    public NameAudit auditName(String name, List<String> issuerIdentities) {
        Set<String> identities = Set.copyOf(normalizeIdentities(issuerIdentities));
        boolean wildcard = name.startsWith("*.");
        String base = wildcard ? name.substring(2) : name;
        Instant checkedAt = clock.instant();
        for (String domain : climb(base)) {
            CaaAnswer answer = dns.lookup(domain);
            switch (answer.status()) {
                case ERROR:
                    return new NameAudit(
                            name,
                            CaaOutcome.ERROR,
                            domain,
                            List.of(),
                            null,
                            checkedAt,
                            "CAA lookup of " + domain + " failed: " + answer.detail());
                case EMPTY:
                    continue;
                case RECORDS:
                    Decision decision = decide(answer.records(), wildcard, identities);
                    String via = answer.owner() != null && !answer.owner().equals(domain)
                            ? " (records owned by alias target " + answer.owner() + ")"
                            : "";
                    return new NameAudit(
                            name,
                            decision.outcome(),
                            domain,
                            answer.records().stream()
                                    .map(CaaProperty::presentation)
                                    .toList(),
                            answer.ttlSeconds(),
                            checkedAt,
                            "relevant set at " + domain + via + ": " + decision.detail());
                default:
                    throw new IllegalStateException("unexpected answer status " + answer.status());
            }
        }
        return new NameAudit(
                name, CaaOutcome.PERMITTED, null, List.of(), null, checkedAt, "no CAA records up to the TLD");
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

    record Decision(CaaOutcome outcome, String detail) {}

    /** Judges the relevant record set (RFC 8659 §4, RFC 8657 for parameters). */
    static Decision decide(List<CaaProperty> set, boolean wildcard, Set<String> identities) {
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
        for (CaaProperty p : selected) {
            IssueValue value = IssueValue.parse(p.value());
            if (!value.valid() || value.issuer() == null || !identities.contains(value.issuer())) {
                continue;
            }
            if (!value.restrictsAccountOrMethod()) {
                return new Decision(CaaOutcome.PERMITTED, "authorised by " + p.presentation());
            }
            if (conditional == null) {
                conditional = p;
            }
        }
        if (conditional != null) {
            return new Decision(
                    CaaOutcome.CONDITIONAL,
                    "authorised only for the account or validation method in " + conditional.presentation()
                            + ", which the certificate does not show");
        }
        return new Decision(CaaOutcome.FORBIDDEN, "no " + kind + " property names " + String.join(", ", identities));
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

    private static Finding finding(CertificateDiscovered certificate, List<String> identities, List<NameAudit> names) {
        List<NameAudit> forbidden =
                names.stream().filter(n -> n.outcome() == CaaOutcome.FORBIDDEN).toList();
        boolean parsed = certificate.identity() != null;
        String serial =
                parsed ? certificate.identity().serialHex() : certificate.key().serialHex();
        String issuer = parsed && certificate.identity().issuerDn() != null
                ? certificate.identity().issuerDn()
                : certificate.issuerName();
        String perName = forbidden.stream()
                .map(n -> String.format(
                        Locale.ROOT,
                        "for %s, at %s the relevant CAA record set, found at %s (TTL %s s), was [%s]: %s",
                        n.name(),
                        n.checkedAt(),
                        n.relevantOwner(),
                        n.ttlSeconds(),
                        String.join("; ", n.records()),
                        n.detail()))
                .collect(Collectors.joining("; "));
        String summary = String.format(
                Locale.ROOT,
                "Possible CAA non-compliance (unconfirmed). Certificate serial %s issued by %s (CAA identities: %s): %s."
                        + " The CA evaluates CAA at issuance and may rely on a lookup made up to 8 hours earlier;"
                        + " the records may have changed. Evidence level: observed.",
                serial,
                issuer,
                String.join(", ", identities),
                perName);
        return new Finding(
                summary,
                Finding.Evidence.OBSERVED,
                forbidden.stream().map(NameAudit::name).toList(),
                identities);
    }

    private static List<String> normalizeIdentities(List<String> identities) {
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
