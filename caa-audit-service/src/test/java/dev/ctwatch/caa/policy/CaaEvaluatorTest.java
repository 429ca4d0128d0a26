package dev.ctwatch.caa.policy;

import static dev.ctwatch.events.CaaOutcome.CONDITIONAL;
import static dev.ctwatch.events.CaaOutcome.ERROR;
import static dev.ctwatch.events.CaaOutcome.FORBIDDEN;
import static dev.ctwatch.events.CaaOutcome.PERMITTED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.caa.dns.CaaAnswer;
import dev.ctwatch.caa.dns.CaaProperty;
import dev.ctwatch.caa.dns.CaaRecordSource;
import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.Finding;
import dev.ctwatch.events.IssuanceKey;
import dev.ctwatch.events.NameAudit;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The evaluator against a fake DNS whose names are the scenarios (Boulder style). Names not in the
 * table are NXDOMAIN; the issuer is Let's Encrypt ({@code letsencrypt.org}) unless said otherwise.
 */
class CaaEvaluatorTest {
    static final List<String> LE = List.of("letsencrypt.org");
    static final Instant NOW = Instant.parse("2026-12-04T10:20:00Z");

    static final Map<String, CaaAnswer> ZONE = new HashMap<>();

    static {
        records("present.test", p(0, "issue", "letsencrypt.org"));
        records("reserved.test", p(0, "issue", "ca.example.net"));
        records("deny.test", p(0, "issue", ";"));
        records("empty-value.test", p(0, "issue", ""));
        records("several.test", p(0, "issue", "ca.example.net"), p(0, "issue", "letsencrypt.org"));
        records("climb.test", p(0, "issue", "ca.example.net"));
        empty("www.climb.test", "NODATA");
        records("tldcaa", p(0, "issue", ";"));
        records("mixedcase-value.test", p(0, "issue", "LetsEncrypt.ORG"));
        records("uppercase-tag.test", p(0, "ISSUE", "ca.example.net"));
        records("subdomain-identity.test", p(0, "issue", "pki.letsencrypt.org"));
        records("trailing-dot.test", p(0, "issue", "letsencrypt.org."));
        records("bad-param.test", p(0, "issue", "letsencrypt.org; nonsense"));
        records("other-param.test", p(0, "issue", "letsencrypt.org; foo=bar"));
        records("spaces.test", p(0, "issue", " letsencrypt.org ;  a-b = c "));
        records("accounturi.test", p(0, "issue", "letsencrypt.org; accounturi=https://acme.example/acct/1"));
        records("methods.test", p(0, "issue", "letsencrypt.org; validationmethods=dns-01"));
        records(
                "methods-and-plain.test",
                p(0, "issue", "letsencrypt.org; validationmethods=dns-01"),
                p(0, "issue", "letsencrypt.org"));
        records("accounturi-other-ca.test", p(0, "issue", "ca.example.net; accounturi=https://ca.example.net/1"));
        records("crit.test", p(128, "tbs", "Unknown"), p(0, "issue", "letsencrypt.org"));
        records("crit-reserved-bit.test", p(130, "tbs", "Unknown"), p(0, "issue", "letsencrypt.org"));
        records("crit-issue.test", p(128, "issue", "letsencrypt.org"));
        records("noncrit-unknown.deny.test", p(0, "tbs", "Unknown"));
        records("iodef-only.deny.test", p(0, "iodef", "mailto:security@deny.test"));
        records("wild.test", p(0, "issue", ";"), p(0, "issuewild", "letsencrypt.org"));
        records("wild-other.test", p(0, "issue", "letsencrypt.org"), p(0, "issuewild", "ca.example.net"));
        records("wild-only.test", p(0, "issuewild", ";"));
        records("crit-wild.test", p(128, "tbs", "Unknown"), p(0, "issuewild", "letsencrypt.org"));
        error("servfail.test", "SERVFAIL");
        records("error-below.test", p(0, "issue", "letsencrypt.org"));
        error("www.error-below.test", "timed out");
        error("error-above.test", "SERVFAIL");
        records("www.error-above.test", p(0, "issue", "letsencrypt.org"));
        error("errtld", "SERVFAIL");
        records("alias.test", "target.example", p(0, "issue", "ca.example.net"));
        // RFC 8657 parameters the auditor can or cannot satisfy
        records(
                "accounturi-twice.test",
                p(0, "issue", "letsencrypt.org; accounturi=https://a.example/1; accounturi=https://a.example/2"));
        records("accounturi-empty.test", p(0, "issue", "letsencrypt.org; accounturi="));
        records("accounturi-relative.test", p(0, "issue", "letsencrypt.org; accounturi=acct/1"));
        records("methods-empty.test", p(0, "issue", "letsencrypt.org; validationmethods="));
        records("methods-comma.test", p(0, "issue", "letsencrypt.org; validationmethods=,"));
        records("methods-unknown.test", p(0, "issue", "letsencrypt.org; validationmethods=carrier-pigeon"));
        records(
                "methods-twice.test",
                p(0, "issue", "letsencrypt.org; validationmethods=dns-01; validationmethods=http-01"));
        records("methods-ca.test", p(0, "issue", "letsencrypt.org; ValidationMethods=ca-tbr-7"));
        records(
                "both-params.test",
                p(0, "issue", "letsencrypt.org; accounturi=https://acme.example/acct/1; validationmethods=dns-01"));
        // grammar corners
        records("params-only.test", p(0, "issue", "; accounturi=https://acme.example/acct/1"));
        records("tabs.test", p(0, "issue", "\tletsencrypt.org\t"));
        records("semicolon-only.test", p(0, "issue", "letsencrypt.org;"));
        records("equals-in-value.test", p(0, "issue", "letsencrypt.org; a=b=c,d"));
        records("space-in-value.test", p(0, "issue", "letsencrypt.org; a=b c"));
        records("underscore.test", p(0, "issue", "lets_encrypt.org"));
        records("space-in-domain.test", p(0, "issue", "letsencrypt .org"));
        // flags: only 128 is the critical bit (RFC 8659 §4.1); a critical iodef is known
        records("flag-one.test", p(1, "tbs", "Unknown"), p(0, "issue", "letsencrypt.org"));
        records("crit-iodef.test", p(128, "iodef", "mailto:x@crit-iodef.test"), p(0, "issue", "letsencrypt.org"));
        records("crit-uppercase.test", p(128, "TBS", "Unknown"), p(0, "issue", "letsencrypt.org"));
        records("mixedcase-wild.test", p(0, "issue", "letsencrypt.org"), p(0, "IsSuEwIlD", ";"));
        records("geotrust.test", p(0, "issue", "geotrust.com"));
    }

    static Stream<Arguments> scenarios() {
        return Stream.of(
                // name, expected outcome, expected relevant owner
                Arguments.of("present.test", PERMITTED, "present.test"),
                Arguments.of("reserved.test", FORBIDDEN, "reserved.test"),
                Arguments.of("nocaa.test", PERMITTED, null),
                // climbing: the first non-empty set up the tree decides
                Arguments.of("www.climb.test", FORBIDDEN, "climb.test"),
                Arguments.of("a.b.c.present.test", PERMITTED, "present.test"),
                // the climb includes the TLD
                Arguments.of("a.b.tldcaa", FORBIDDEN, "tldcaa"),
                // issue ";" and an empty value authorise nobody
                Arguments.of("deny.test", FORBIDDEN, "deny.test"),
                Arguments.of("www.deny.test", FORBIDDEN, "deny.test"),
                Arguments.of("empty-value.test", FORBIDDEN, "empty-value.test"),
                // properties are additive
                Arguments.of("several.test", PERMITTED, "several.test"),
                // case: issuer domains and tags compare case-insensitively
                Arguments.of("mixedcase-value.test", PERMITTED, "mixedcase-value.test"),
                Arguments.of("uppercase-tag.test", FORBIDDEN, "uppercase-tag.test"),
                // exact match only, no subdomain matching
                Arguments.of("subdomain-identity.test", FORBIDDEN, "subdomain-identity.test"),
                // malformed values authorise nobody (not dropped, which would mean "no restriction")
                Arguments.of("trailing-dot.test", FORBIDDEN, "trailing-dot.test"),
                Arguments.of("bad-param.test", FORBIDDEN, "bad-param.test"),
                // other parameters are ignored; whitespace around them is legal
                Arguments.of("other-param.test", PERMITTED, "other-param.test"),
                Arguments.of("spaces.test", PERMITTED, "spaces.test"),
                // RFC 8657 parameters the certificate does not reveal
                Arguments.of("accounturi.test", CONDITIONAL, "accounturi.test"),
                Arguments.of("methods.test", CONDITIONAL, "methods.test"),
                Arguments.of("methods-and-plain.test", PERMITTED, "methods-and-plain.test"),
                Arguments.of("accounturi-other-ca.test", FORBIDDEN, "accounturi-other-ca.test"),
                // an unknown critical tag forbids, whatever else the set says; a known critical tag does not
                Arguments.of("crit.test", FORBIDDEN, "crit.test"),
                Arguments.of("crit-reserved-bit.test", FORBIDDEN, "crit-reserved-bit.test"),
                Arguments.of("crit-issue.test", PERMITTED, "crit-issue.test"),
                Arguments.of("*.crit-wild.test", FORBIDDEN, "crit-wild.test"),
                // a set without issue still ends the climb and restricts nothing
                Arguments.of("noncrit-unknown.deny.test", PERMITTED, "noncrit-unknown.deny.test"),
                Arguments.of("iodef-only.deny.test", PERMITTED, "iodef-only.deny.test"),
                // wildcards: issuewild when present, else issue; issuewild never governs plain names
                Arguments.of("*.wild.test", PERMITTED, "wild.test"),
                Arguments.of("wild.test", FORBIDDEN, "wild.test"),
                Arguments.of("www.wild.test", FORBIDDEN, "wild.test"),
                Arguments.of("*.wild-other.test", FORBIDDEN, "wild-other.test"),
                Arguments.of("wild-other.test", PERMITTED, "wild-other.test"),
                Arguments.of("*.present.test", PERMITTED, "present.test"),
                Arguments.of("*.deny.test", FORBIDDEN, "deny.test"),
                Arguments.of("wild-only.test", PERMITTED, "wild-only.test"),
                Arguments.of("*.wild-only.test", FORBIDDEN, "wild-only.test"),
                // DNS failures: an error before the relevant set is ERROR, one above it is never reached
                Arguments.of("servfail.test", ERROR, "servfail.test"),
                Arguments.of("www.error-below.test", ERROR, "www.error-below.test"),
                Arguments.of("www.error-above.test", PERMITTED, "www.error-above.test"),
                Arguments.of("x.errtld", ERROR, "errtld"),
                // the set found through an alias is the set of the queried name
                Arguments.of("alias.test", FORBIDDEN, "alias.test"),
                // RFC 8657: a repeated or invalid accounturi / validationmethods accepts nothing
                Arguments.of("accounturi-twice.test", FORBIDDEN, "accounturi-twice.test"),
                Arguments.of("accounturi-empty.test", FORBIDDEN, "accounturi-empty.test"),
                Arguments.of("accounturi-relative.test", FORBIDDEN, "accounturi-relative.test"),
                Arguments.of("methods-empty.test", FORBIDDEN, "methods-empty.test"),
                Arguments.of("methods-comma.test", FORBIDDEN, "methods-comma.test"),
                Arguments.of("methods-unknown.test", FORBIDDEN, "methods-unknown.test"),
                Arguments.of("methods-twice.test", FORBIDDEN, "methods-twice.test"),
                Arguments.of("methods-ca.test", CONDITIONAL, "methods-ca.test"),
                Arguments.of("both-params.test", CONDITIONAL, "both-params.test"),
                // grammar: parameters without an issuer name nobody; tabs and a lone ';' are legal
                Arguments.of("params-only.test", FORBIDDEN, "params-only.test"),
                Arguments.of("tabs.test", PERMITTED, "tabs.test"),
                Arguments.of("semicolon-only.test", PERMITTED, "semicolon-only.test"),
                Arguments.of("equals-in-value.test", PERMITTED, "equals-in-value.test"),
                Arguments.of("space-in-value.test", FORBIDDEN, "space-in-value.test"),
                Arguments.of("underscore.test", FORBIDDEN, "underscore.test"),
                Arguments.of("space-in-domain.test", FORBIDDEN, "space-in-domain.test"),
                // flags
                Arguments.of("flag-one.test", PERMITTED, "flag-one.test"),
                Arguments.of("crit-iodef.test", PERMITTED, "crit-iodef.test"),
                Arguments.of("crit-uppercase.test", FORBIDDEN, "crit-uppercase.test"),
                // tag case applies to issuewild too
                Arguments.of("*.mixedcase-wild.test", FORBIDDEN, "mixedcase-wild.test"),
                Arguments.of("mixedcase-wild.test", PERMITTED, "mixedcase-wild.test"),
                // identity sets: another CA's name does not authorise this one
                Arguments.of("geotrust.test", FORBIDDEN, "geotrust.test"),
                // Onion names are exempt (BR 3.2.2.8), nothing is queried
                Arguments.of("abc.onion", PERMITTED, null));
    }

    static Stream<Arguments> contexts() {
        return Stream.of(
                // name, account URI, validation method, expected
                Arguments.of("accounturi.test", "https://acme.example/acct/1", null, PERMITTED),
                Arguments.of("accounturi.test", "https://acme.example/acct/2", null, FORBIDDEN),
                Arguments.of("methods.test", null, "dns-01", PERMITTED),
                Arguments.of("methods.test", null, "DNS-01", PERMITTED),
                Arguments.of("methods.test", null, "http-01", FORBIDDEN),
                Arguments.of("methods-ca.test", null, "ca-tbr-7", PERMITTED),
                Arguments.of("both-params.test", "https://acme.example/acct/1", null, CONDITIONAL),
                Arguments.of("both-params.test", "https://acme.example/acct/1", "dns-01", PERMITTED),
                Arguments.of("both-params.test", "https://acme.example/acct/1", "http-01", FORBIDDEN),
                Arguments.of("accounturi-twice.test", "https://a.example/1", null, FORBIDDEN));
    }

    @ParameterizedTest(name = "{0} account {1} method {2} -> {3}")
    @MethodSource("contexts")
    void knownAccountOrMethodDecidesRfc8657Parameters(String name, String account, String method, CaaOutcome outcome) {
        NameAudit audit = audit(name, LE, new IssuanceContext(account, method));

        assertThat(audit.outcome()).as(audit.detail()).isEqualTo(outcome);
    }

    @Test
    void anyOfTheIssuersIdentitiesAuthorises() {
        NameAudit audit = audit("geotrust.test", List.of("digicert.com", "GeoTrust.com"), IssuanceContext.UNKNOWN);

        assertThat(audit.outcome()).isEqualTo(PERMITTED);
    }

    @Test
    void findingFollowsTheSuggestedWordingWithItsEvidenceWindow() {
        CertificateAudited audited = evaluator(new ArrayList<>())
                .audit(certificate(List.of("deny.test"), null), LE)
                .toCompletableFuture()
                .join();

        Finding finding = audited.finding();
        // notBefore is NOW - 1 h; the window opens 8 h before it (TTL 300 s is shorter)
        assertThat(finding.evidenceWindowStart()).isEqualTo(NOW.minusSeconds(3600 + 8 * 3600));
        assertThat(finding.evidenceWindowEnd()).isEqualTo(NOW);
        assertThat(finding.summary())
                .contains(
                        "Possible CAA non-compliance (unconfirmed). Certificate serial 3ffeea57322e24cd6fd207682f59ead324f")
                .contains(
                        "At 2026-12-04T10:20:00Z the relevant CAA record set for deny.test, found at deny.test (TTL 300 s")
                .contains("issue authorises nobody")
                .contains("may rely on a lookup made up to 8 hours earlier")
                .contains("Evidence window: 2026-12-04T01:20:00Z to 2026-12-04T10:20:00Z")
                .doesNotContain("mis-issued");
    }

    @Test
    void aWildcardAndItsBaseNameShareOneClimb() {
        List<String> queried = new ArrayList<>();
        evaluator(queried)
                .audit(certificate(List.of("*.www.climb.test", "www.climb.test"), null), LE)
                .toCompletableFuture()
                .join();

        assertThat(queried).containsExactly("www.climb.test", "climb.test");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("scenarios")
    void outcomeOfOneName(String name, CaaOutcome outcome, String owner) {
        NameAudit audit = audit(name, LE, IssuanceContext.UNKNOWN);

        assertThat(audit.outcome()).as(audit.detail()).isEqualTo(outcome);
        assertThat(audit.relevantOwner()).isEqualTo(owner);
        assertThat(audit.name()).isEqualTo(name);
        assertThat(audit.checkedAt()).isEqualTo(NOW);
    }

    @Test
    void recordsAreReportedInPresentationFormWithTheirTtl() {
        NameAudit audit = audit("www.wild.test", LE, IssuanceContext.UNKNOWN);

        assertThat(audit.records()).containsExactly("0 issue \";\"", "0 issuewild \"letsencrypt.org\"");
        assertThat(audit.ttlSeconds()).isEqualTo(300L);
    }

    @Test
    void climbsFromTheNameToTheTldAndNeverQueriesTheRootOrTheWildcardLabel() {
        List<String> queried = new ArrayList<>();
        evaluator(queried)
                .auditName("*.a.b.nocaa.test", LE, IssuanceContext.UNKNOWN)
                .toCompletableFuture()
                .join();

        assertThat(queried).containsExactly("a.b.nocaa.test", "b.nocaa.test", "nocaa.test", "test");
    }

    @Test
    void errorDetailNamesTheFailedLevel() {
        NameAudit audit = audit("www.servfail.test", LE, IssuanceContext.UNKNOWN);

        assertThat(audit.detail()).contains("servfail.test").contains("SERVFAIL");
        assertThat(audit.records()).isEmpty();
    }

    static Stream<Arguments> verdicts() {
        return Stream.of(
                Arguments.of(List.of("present.test", "www.present.test"), LE, CaaVerdict.COMPLIANT),
                Arguments.of(List.of(), LE, CaaVerdict.COMPLIANT),
                Arguments.of(List.of("present.test", "deny.test"), LE, CaaVerdict.POSSIBLE_NON_COMPLIANCE),
                Arguments.of(List.of("servfail.test", "deny.test"), LE, CaaVerdict.POSSIBLE_NON_COMPLIANCE),
                Arguments.of(List.of("present.test", "servfail.test"), LE, CaaVerdict.INCONCLUSIVE),
                Arguments.of(List.of("present.test", "accounturi.test"), LE, CaaVerdict.INCONCLUSIVE),
                Arguments.of(List.of("deny.test"), List.of(), CaaVerdict.UNKNOWN_ISSUER));
    }

    @ParameterizedTest(name = "{0} for {1} -> {2}")
    @MethodSource("verdicts")
    void verdictOfACertificate(List<String> names, List<String> identities, CaaVerdict verdict) {
        CertificateAudited audited = evaluator(new ArrayList<>())
                .audit(certificate(names, null), identities)
                .toCompletableFuture()
                .join();

        assertThat(audited.verdict()).isEqualTo(verdict);
        assertThat(audited.finding() != null).isEqualTo(verdict == CaaVerdict.POSSIBLE_NON_COMPLIANCE);
        assertThat(audited.auditedAt()).isEqualTo(NOW);
    }

    @Test
    void findingForForbiddenNames() {
        CertificateAudited audited = evaluator(new ArrayList<>())
                .audit(certificate(List.of("present.test", "deny.test", "www.climb.test"), null), LE)
                .toCompletableFuture()
                .join();

        Finding finding = audited.finding();
        assertThat(finding.summary())
                .startsWith("Possible CAA non-compliance")
                .contains("deny.test", "0 issue \";\"", "letsencrypt.org", "observed");
        assertThat(finding.evidence()).isEqualTo(Finding.Evidence.OBSERVED);
        assertThat(finding.forbiddenNames()).containsExactly("deny.test", "www.climb.test");
        assertThat(finding.issuerCaaIdentities()).containsExactly("letsencrypt.org");
        assertThat(audited.issuerCaaIdentities()).containsExactly("letsencrypt.org");
    }

    @Test
    void unknownIssuerQueriesNoDnsAndMakesNoFinding() {
        List<String> queried = new ArrayList<>();
        CertificateAudited audited = evaluator(queried)
                .audit(certificate(List.of("deny.test"), null), List.of())
                .toCompletableFuture()
                .join();

        assertThat(audited.verdict()).isEqualTo(CaaVerdict.UNKNOWN_ISSUER);
        assertThat(audited.finding()).isNull();
        assertThat(audited.names()).isEmpty();
        assertThat(queried).isEmpty();
    }

    @Test
    void namesAreLowerCasedAndDeduplicated() {
        CertificateAudited audited = evaluator(new ArrayList<>())
                .audit(certificate(List.of("Present.TEST", "present.test.", "*.Wild.test"), null), LE)
                .toCompletableFuture()
                .join();

        assertThat(audited.names()).extracting(NameAudit::name).containsExactly("present.test", "*.wild.test");
    }

    @Test
    void anomalyPassesThroughUnchanged() {
        Anomaly anomaly = new Anomaly(Anomaly.Kind.SERIAL_REUSE, "same serial, other TBS");
        CertificateDiscovered discovered = certificate(List.of("present.test"), anomaly);

        CertificateAudited audited = evaluator(new ArrayList<>())
                .audit(discovered, LE)
                .toCompletableFuture()
                .join();

        assertThat(audited.certificate()).isEqualTo(discovered);
        assertThat(audited.certificate().anomaly()).isEqualTo(anomaly);
        assertThat(audited.verdict()).isEqualTo(CaaVerdict.COMPLIANT);
    }

    private static NameAudit audit(String name, List<String> identities, IssuanceContext context) {
        return evaluator(new ArrayList<>())
                .auditName(name, identities, context)
                .toCompletableFuture()
                .join();
    }

    private static CaaEvaluator evaluator(List<String> queried) {
        CaaRecordSource fake = name -> {
            assertThat(name).doesNotStartWith("*");
            queried.add(name);
            return CompletableFuture.completedFuture(
                    ZONE.getOrDefault(name, CaaAnswer.empty(name, 60L, "NXDOMAIN", NOW)));
        };
        return new CaaEvaluator(fake, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static CertificateDiscovered certificate(List<String> dnsNames, Anomaly anomaly) {
        CertificateIdentity identity = new CertificateIdentity(
                "3ffeea57322e24cd6fd207682f59ead324f",
                "CN=R11,O=Let's Encrypt,C=US",
                "CN=" + (dnsNames.isEmpty() ? "none" : dnsNames.get(0)),
                dnsNames,
                List.of(),
                NOW.minusSeconds(3600),
                NOW.plusSeconds(86400 * 90L),
                true,
                "aa",
                "bb",
                "c5cf46a4eaf4c3c07a6c95c42db05e922f26e3b9");
        return new CertificateDiscovered(
                IssuanceKey.parse("16418:3ffeea57322e24cd6fd207682f59ead324f"),
                List.of(1L),
                "C=US, O=Let's Encrypt, CN=R11",
                "AA==",
                identity,
                List.of(),
                false,
                anomaly,
                NOW.minusSeconds(60));
    }

    private static CaaProperty p(int flags, String tag, String value) {
        return new CaaProperty(flags, tag, value);
    }

    private static void records(String name, CaaProperty... properties) {
        records(name, name, properties);
    }

    private static void records(String name, String owner, CaaProperty... properties) {
        ZONE.put(name, CaaAnswer.records(name, owner, List.of(properties), 300, null, NOW));
    }

    private static void empty(String name, String detail) {
        ZONE.put(name, CaaAnswer.empty(name, 60L, detail, NOW));
    }

    private static void error(String name, String detail) {
        ZONE.put(name, CaaAnswer.error(name, detail, NOW));
    }
}
