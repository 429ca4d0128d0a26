package dev.ctwatch.caa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.NameAudit;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link CaaLookup} against a real NSD serving the zones in {@code src/test/resources/zones}. */
class CaaLookupNsdTest {
    static final Path SCRIPT = Path.of("..", "deploy", "dns.sh");
    static final Path DIR = Path.of("target", "nsd-test");
    static final Path ZONES = Path.of("src", "test", "resources", "zones");

    static int port;
    static CaaLookup lookup;

    @BeforeAll
    static void startNsd() throws Exception {
        port = freePort();
        Process p = new ProcessBuilder(
                        "bash", SCRIPT.toString(), "start", DIR.toString(), String.valueOf(port), ZONES.toString())
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = p.waitFor(5, TimeUnit.MINUTES);
        if (!done || p.exitValue() != 0) {
            Assumptions.assumeTrue(
                    !output.contains("dns: installing") && !output.contains("needs root"),
                    "NSD could not be installed by deploy/dns.sh, skipping: " + output);
            throw new IllegalStateException("deploy/dns.sh start failed:\n" + output);
        }
        lookup = CaaLookup.create(Optional.of(List.of("127.0.0.1:" + port)), Duration.ofSeconds(2), 1);
    }

    @AfterAll
    static void stopNsd() throws Exception {
        Process p = new ProcessBuilder("bash", SCRIPT.toString(), "stop", DIR.toString())
                .inheritIO()
                .start();
        p.waitFor(20, TimeUnit.SECONDS);
    }

    @Test
    void recordsAtTheApex() {
        CaaAnswer answer = lookup.lookup("caa.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.RECORDS);
        assertThat(answer.owner()).isEqualTo("caa.test");
        assertThat(answer.ttlSeconds()).isEqualTo(60L);
        assertThat(answer.records())
                .extracting(CaaProperty::presentation)
                .containsExactlyInAnyOrder("0 issue \"letsencrypt.org\"", "0 iodef \"mailto:security@caa.test\"");
    }

    @Test
    void criticalFlagAndTag() {
        assertThat(lookup.lookup("crit.caa.test").records())
                .contains(new CaaProperty(128, "tbs", "Unknown"), new CaaProperty(0, "issue", "letsencrypt.org"));
    }

    @Test
    void valuesAreReadFromRawOctets() {
        assertThat(lookup.lookup("quoted.caa.test").records())
                .containsExactly(new CaaProperty(0, "issue", "letsencrypt.org; x=a\"b\\c"));
        assertThat(lookup.lookup("params.caa.test").records().get(0).value())
                .isEqualTo("letsencrypt.org; validationmethods=dns-01;"
                        + " accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1");
    }

    @Test
    void nodataAndNxdomainAreEmpty() {
        CaaAnswer nodata = lookup.lookup("nocaa.caa.test");
        CaaAnswer nxdomain = lookup.lookup("nx.caa.test");

        assertThat(nodata.status()).isEqualTo(CaaAnswer.Status.EMPTY);
        assertThat(nodata.detail()).startsWith("NODATA");
        assertThat(nxdomain.status()).isEqualTo(CaaAnswer.Status.EMPTY);
        assertThat(nxdomain.detail()).startsWith("NXDOMAIN");
    }

    @Test
    void cnameChainIsFollowed() {
        CaaAnswer answer = lookup.lookup("alias.caa.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.RECORDS);
        assertThat(answer.owner()).isEqualTo("params.caa.test");
        assertThat(answer.detail()).contains("alias.caa.test -> alias2.caa.test");
        assertThat(lookup.lookup("ext.caa.test").records()).containsExactly(new CaaProperty(0, "issue", "pki.goog"));
    }

    @Test
    void servfailIsAnError() {
        CaaAnswer answer = lookup.lookup("broken.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(answer.detail()).contains("SERVFAIL");
    }

    @Test
    void referralIsAnError() {
        CaaAnswer answer = lookup.lookup("x.dead.caa.test");

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(answer.detail()).contains("referral");
    }

    @Test
    void timeoutIsAnError() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CaaLookup dead = CaaLookup.create(
                    Optional.of(List.of("127.0.0.1:" + silent.getLocalPort())), Duration.ofMillis(300), 0);

            assertThat(dead.lookup("caa.test").status()).isEqualTo(CaaAnswer.Status.ERROR);
        }
    }

    @Test
    void evaluatorOverRealDns() {
        CaaEvaluator evaluator = new CaaEvaluator(lookup, Clock.systemUTC());
        List<String> le = List.of("letsencrypt.org");

        NameAudit climbed = evaluator.auditName("sub.nocaa.caa.test", le);
        assertThat(climbed.outcome()).isEqualTo(CaaOutcome.PERMITTED);
        assertThat(climbed.relevantOwner()).isEqualTo("caa.test");
        NameAudit nothing = evaluator.auditName("nocaa.other.test", le);
        assertThat(nothing.outcome()).isEqualTo(CaaOutcome.PERMITTED);
        assertThat(nothing.relevantOwner()).isNull();
        assertThat(evaluator.auditName("deny.caa.test", le).outcome()).isEqualTo(CaaOutcome.FORBIDDEN);
        assertThat(evaluator.auditName("crit.caa.test", le).outcome()).isEqualTo(CaaOutcome.FORBIDDEN);
        assertThat(evaluator.auditName("alias.caa.test", le).outcome()).isEqualTo(CaaOutcome.CONDITIONAL);
        assertThat(evaluator
                        .auditName("*.wild.caa.test", List.of("sectigo.com"))
                        .outcome())
                .isEqualTo(CaaOutcome.PERMITTED);
        assertThat(evaluator.auditName("www.broken.test", le).outcome()).isEqualTo(CaaOutcome.ERROR);
    }

    @Test
    void reloadServesEditedZones() throws Exception {
        Files.writeString(
                DIR.resolve("caa.test.zone"),
                "added      IN CAA   0 issue \"ca.example.net\"\n",
                StandardOpenOption.APPEND);
        Process p = new ProcessBuilder("bash", SCRIPT.toString(), "reload", DIR.toString())
                .inheritIO()
                .start();
        assertThat(p.waitFor()).isZero();

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(lookup.lookup("added.caa.test").records())
                        .containsExactly(new CaaProperty(0, "issue", "ca.example.net")));
    }

    /** A loopback port free for both TCP and UDP right now. */
    private static int freePort() throws IOException {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                    DatagramSocket udp = new DatagramSocket(
                            new InetSocketAddress(InetAddress.getLoopbackAddress(), tcp.getLocalPort()))) {
                return tcp.getLocalPort();
            } catch (IOException busy) {
                // the UDP side was taken; try another
            }
        }
        throw new IOException("no free loopback port for TCP and UDP");
    }
}
