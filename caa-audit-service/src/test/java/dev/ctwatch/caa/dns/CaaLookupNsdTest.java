package dev.ctwatch.caa.dns;

import static dev.ctwatch.events.CaaOutcome.CONDITIONAL;
import static dev.ctwatch.events.CaaOutcome.ERROR;
import static dev.ctwatch.events.CaaOutcome.FORBIDDEN;
import static dev.ctwatch.events.CaaOutcome.PERMITTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.caa.policy.CaaEvaluator;
import dev.ctwatch.caa.policy.IssuanceContext;
import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.NameAudit;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link CaaLookup}, {@link CaaCache} and the evaluator against a real NSD serving the test zones. */
class CaaLookupNsdTest {
    static final List<String> LE = List.of("letsencrypt.org");
    static Nsd nsd;
    static ExecutorService executor;
    static CaaLookup lookup;

    @BeforeAll
    static void startNsd() throws Exception {
        nsd = Nsd.start(Path.of("target", "nsd-test"), Nsd.TEST_ZONES);
        executor = Executors.newFixedThreadPool(2);
        lookup = CaaLookup.create(Optional.of(List.of(nsd.server())), Duration.ofSeconds(2), 1, 16, executor);
    }

    @AfterAll
    static void stopNsd() throws Exception {
        if (nsd != null) {
            nsd.stop();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    static CaaAnswer lookup(String name) {
        return lookup.lookup(name).toCompletableFuture().join();
    }

    @Test
    void recordsAtTheApex() {
        CaaAnswer answer = lookup("caa.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.RECORDS);
        assertThat(answer.owner()).isEqualTo("caa.test");
        assertThat(answer.ttlSeconds()).isEqualTo(60L);
        assertThat(answer.records())
                .extracting(CaaProperty::presentation)
                .containsExactlyInAnyOrder("0 issue \"letsencrypt.org\"", "0 iodef \"mailto:security@caa.test\"");
    }

    @Test
    void criticalFlagAndTag() {
        assertThat(lookup("crit.caa.test").records())
                .contains(new CaaProperty(128, "tbs", "Unknown"), new CaaProperty(0, "issue", "letsencrypt.org"));
    }

    @Test
    void valuesAreReadFromRawOctets() {
        assertThat(lookup("quoted.caa.test").records())
                .containsExactly(new CaaProperty(0, "issue", "letsencrypt.org; x=a\"b\\c"));
        assertThat(lookup("params.caa.test").records().get(0).value())
                .isEqualTo("letsencrypt.org; validationmethods=dns-01;"
                        + " accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1");
    }

    @Test
    void nodataAndNxdomainAreEmptyWithTheSoaMinimumAsTtl() {
        CaaAnswer nodata = lookup("nocaa.caa.test");
        CaaAnswer nxdomain = lookup("nx.caa.test");

        assertThat(nodata.status()).isEqualTo(CaaAnswer.Status.EMPTY);
        assertThat(nodata.detail()).startsWith("NODATA");
        assertThat(nodata.ttlSeconds()).isEqualTo(60L);
        assertThat(nxdomain.status()).isEqualTo(CaaAnswer.Status.EMPTY);
        assertThat(nxdomain.detail()).startsWith("NXDOMAIN");
        assertThat(nxdomain.ttlSeconds()).isEqualTo(60L);
    }

    @Test
    void cnameChainIsFollowedInsideTheZoneAndAcrossZones() {
        CaaAnswer answer = lookup("alias.caa.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.RECORDS);
        assertThat(answer.owner()).isEqualTo("params.caa.test");
        assertThat(answer.detail()).contains("alias.caa.test -> alias2.caa.test");
        assertThat(lookup("ext.caa.test").records()).containsExactly(new CaaProperty(0, "issue", "pki.goog"));
    }

    @Test
    void dnameRewritesNamesBelowItsOwner() {
        CaaAnswer below = lookup("www.dn.caa.test");

        assertThat(below.status()).isEqualTo(CaaAnswer.Status.RECORDS);
        assertThat(below.owner()).isEqualTo("www.dtarget.other.test");
        assertThat(below.records()).containsExactly(new CaaProperty(0, "issue", "pki.goog"));
        // the DNAME owner itself is not an alias
        assertThat(lookup("dn.caa.test").status()).isEqualTo(CaaAnswer.Status.EMPTY);
    }

    @Test
    void aliasLoopsAndOverlongChainsAreErrors() {
        assertThat(lookup("loop1.caa.test").status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(lookup("selfloop.caa.test").status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(lookup("c1.caa.test").owner()).isEqualTo("deny.caa.test");
        CaaLookup short4 = CaaLookup.create(Optional.of(List.of(nsd.server())), Duration.ofSeconds(2), 1, 4, executor);
        CaaAnswer tooLong = short4.lookup("c1.caa.test").toCompletableFuture().join();
        assertThat(tooLong.status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(tooLong.detail()).contains("more than 4 aliases");
    }

    @Test
    void servfailIsAnError() {
        CaaAnswer answer = lookup("broken.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(answer.detail()).contains("SERVFAIL");
    }

    @Test
    void referralIsAnError() {
        CaaAnswer answer = lookup("x.dead.caa.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(answer.detail()).contains("referral");
    }

    @Test
    void truncatedAnswersAreRetriedOverTcp() {
        CaaAnswer answer = lookup("big.caa.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.RECORDS);
        assertThat(answer.records()).hasSize(40);
    }

    @Test
    void timeoutIsAnError() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CaaLookup dead = CaaLookup.create(
                    Optional.of(List.of("127.0.0.1:" + silent.getLocalPort())),
                    Duration.ofMillis(300),
                    0,
                    16,
                    executor);

            CaaAnswer answer = dead.lookup("caa.test").toCompletableFuture().join();
            assertThat(answer.status()).isEqualTo(CaaAnswer.Status.ERROR);
            assertThat(answer.detail()).contains("failed");
        }
    }

    static Stream<Arguments> overRealDns() {
        return Stream.of(
                // name, identities, outcome, relevant owner
                Arguments.of("sub.nocaa.caa.test", LE, PERMITTED, "caa.test"),
                Arguments.of("nocaa.other.test", LE, PERMITTED, null),
                Arguments.of("deny.caa.test", LE, FORBIDDEN, "deny.caa.test"),
                Arguments.of("crit.caa.test", LE, FORBIDDEN, "crit.caa.test"),
                Arguments.of("alias.caa.test", LE, CONDITIONAL, "alias.caa.test"),
                Arguments.of("*.wild.caa.test", List.of("sectigo.com"), PERMITTED, "wild.caa.test"),
                Arguments.of("www.broken.test", LE, ERROR, "www.broken.test"),
                Arguments.of("x.dead.caa.test", LE, ERROR, "x.dead.caa.test"),
                // DNAME: below the owner the target's set applies; the owner itself climbs
                Arguments.of("www.dn.caa.test", LE, FORBIDDEN, "www.dn.caa.test"),
                Arguments.of("dn.caa.test", LE, PERMITTED, "caa.test"),
                // an empty alias target: climb from the queried name's parent, never the target's
                Arguments.of("x.deny.caa.test", LE, FORBIDDEN, "deny.caa.test"),
                Arguments.of("nothere.dn.caa.test", LE, PERMITTED, "caa.test"),
                Arguments.of("dangling.caa.test", LE, PERMITTED, "caa.test"),
                Arguments.of("loop1.caa.test", LE, ERROR, "loop1.caa.test"),
                Arguments.of("c1.caa.test", LE, FORBIDDEN, "c1.caa.test"),
                // DNS wildcards apply to names they cover, not to a certificate for *.wc
                Arguments.of("anything.wc.caa.test", LE, FORBIDDEN, "anything.wc.caa.test"),
                Arguments.of("*.wc.caa.test", LE, PERMITTED, "caa.test"),
                Arguments.of("big.caa.test", List.of("ca7.example.net"), CONDITIONAL, "big.caa.test"));
    }

    @ParameterizedTest(name = "{0} -> {2} at {3}")
    @MethodSource("overRealDns")
    void evaluatorOverRealDns(String name, List<String> identities, CaaOutcome outcome, String owner) {
        CaaEvaluator evaluator = new CaaEvaluator(lookup, Clock.systemUTC());

        NameAudit audit = evaluator
                .auditName(name, identities, IssuanceContext.UNKNOWN)
                .toCompletableFuture()
                .join();

        assertThat(audit.outcome()).as(audit.detail()).isEqualTo(outcome);
        assertThat(audit.relevantOwner()).isEqualTo(owner);
    }

    @Test
    void concurrentAuditsShareOneQueryPerName() {
        CaaLookup counted =
                CaaLookup.create(Optional.of(List.of(nsd.server())), Duration.ofSeconds(2), 1, 16, executor);
        CaaCache cache = new CaaCache(counted, Clock.systemUTC(), Duration.ofSeconds(10), Duration.ofMinutes(5), 1000);
        CaaEvaluator evaluator = new CaaEvaluator(cache, Clock.systemUTC());

        List<CompletableFuture<NameAudit>> audits = IntStream.range(0, 50)
                .mapToObj(i -> evaluator
                        .auditName("a.b.nocaa.caa.test", LE, IssuanceContext.UNKNOWN)
                        .toCompletableFuture())
                .toList();
        audits.forEach(CompletableFuture::join);

        // a.b.nocaa, b.nocaa, nocaa, caa.test: four names, one query each
        assertThat(counted.queries()).isEqualTo(4);
        assertThat(audits).allSatisfy(a -> assertThat(a.join().outcome()).isEqualTo(PERMITTED));
    }

    @Test
    void aChangedRecordIsSeenAfterReloadByAFreshLookupButNotThroughTheCache() throws Exception {
        CaaCache cache = new CaaCache(lookup, Clock.systemUTC(), Duration.ofSeconds(10), Duration.ofMinutes(5), 1000);
        assertThat(cache.lookup("changing.caa.test")
                        .toCompletableFuture()
                        .join()
                        .records())
                .containsExactly(new CaaProperty(0, "issue", "letsencrypt.org"));

        Path zone = nsd.dir.resolve("caa.test.zone");
        Files.writeString(zone, Files.readString(zone).replace("changing   IN CAA   0 issue \"letsencrypt.org\"", ""));
        Files.writeString(zone, "changing   IN CAA   0 issue \"ca.example.net\"\n", StandardOpenOption.APPEND);
        nsd.reload();

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(lookup("changing.caa.test").records())
                        .containsExactly(new CaaProperty(0, "issue", "ca.example.net")));
        // within its TTL the cached answer stands; a refresh replaces it
        assertThat(cache.lookup("changing.caa.test")
                        .toCompletableFuture()
                        .join()
                        .records())
                .containsExactly(new CaaProperty(0, "issue", "letsencrypt.org"));
        assertThat(cache.refresh("changing.caa.test")
                        .toCompletableFuture()
                        .join()
                        .records())
                .containsExactly(new CaaProperty(0, "issue", "ca.example.net"));
        assertThat(cache.lookup("changing.caa.test")
                        .toCompletableFuture()
                        .join()
                        .records())
                .containsExactly(new CaaProperty(0, "issue", "ca.example.net"));
    }
}
