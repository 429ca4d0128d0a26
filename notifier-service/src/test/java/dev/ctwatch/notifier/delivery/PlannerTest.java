package dev.ctwatch.notifier.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.Samples;
import dev.ctwatch.notifier.delivery.Planner.Plan;
import dev.ctwatch.notifier.digest.Digest;
import dev.ctwatch.notifier.digest.FloodGuard;
import dev.ctwatch.notifier.render.MailRenderer;
import dev.ctwatch.notifier.routing.Kind;
import dev.ctwatch.notifier.routing.Route;
import dev.ctwatch.notifier.routing.Router;
import dev.ctwatch.notifier.routing.Severity;
import java.net.URI;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Deliveries versus digests: backfill, flood, and what is always sent alone. */
class PlannerTest {
    static final Instant NOW = Instant.parse("2026-12-04T21:00:00Z");
    static final Route WEB = new Route(
            "web",
            Map.of("team", "web"),
            EnumSet.noneOf(Kind.class),
            Severity.INFO,
            List.of("web@example.org"),
            Optional.of(URI.create("https://hooks.example/slack")),
            Optional.of(URI.create("https://hooks.example/webhook")),
            Optional.of("secret"),
            2);
    static final Route DEFAULT = new Route(
            Route.DEFAULT,
            Map.of(),
            EnumSet.noneOf(Kind.class),
            Severity.INFO,
            List.of("a@example.org", "b@example.org"),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            30);

    Planner planner(boolean digest) {
        return new Planner(new Router(List.of(WEB), DEFAULT), new MailRenderer("[ctwatch]"), digest, new FloodGuard());
    }

    @Test
    void aNewCertificateIsOneDeliveryPerChannelAndRecipientOfItsRoutes() {
        Plan plan = planner(true)
                .plan(Samples.newCertificate("aa01", "www.web.test", "web.test", false, "team", "web"), NOW);
        assertThat(plan.digestItems()).isEmpty();
        assertThat(plan.deliveries())
                .extracting(p -> p.route() + "/" + p.channel() + "/" + p.recipient())
                .containsExactly("web/mail/web@example.org", "web/slack/url", "web/webhook/url");
        assertThat(plan.deliveries()).allSatisfy(p -> {
            assertThat(p.key()).isEqualTo("16418:aa01");
            assertThat(p.event()).contains("\"key\":\"16418:aa01\"");
        });
        assertThat(plan.deliveries().get(0).message().subject())
                .isEqualTo("[ctwatch] New certificate for web.test: www.web.test");
        assertThat(plan.deliveries().get(1).message().json()).contains("\"blocks\"");
        assertThat(plan.deliveries().get(2).message().json()).startsWith("{\"certificate\":");
    }

    @Test
    void backfillNewCertificatesGoToTheDigestOfTheirRouteAndWatchEntry() {
        Plan plan = planner(true)
                .plan(Samples.newCertificate("aa02", "www.web.test", "web.test", true, "team", "web"), NOW);
        assertThat(plan.deliveries()).isEmpty();
        assertThat(plan.digestItems())
                .extracting(i -> i.route() + "/" + i.watchEntry() + "/" + i.issuanceKey() + "/" + i.reason())
                .containsExactly("web/web.test/16418:aa02/BACKFILL");
    }

    @Test
    void findingsInsideABackfillAreStillSentAlone() {
        CertificateAudited finding =
                Samples.asFinding(Samples.newCertificate("aa03", "www.web.test", "web.test", true, "team", "web"));
        Plan plan = planner(true).plan(finding, NOW);
        assertThat(plan.digestItems()).isEmpty();
        assertThat(plan.deliveries()).hasSize(3);
        assertThat(plan.deliveries().get(0).message().subject()).contains("Possible CAA non-compliance: www.web.test");
    }

    @Test
    void withDigestsSwitchedOffABackfillIsSentOneByOne() {
        Plan plan = planner(false).plan(Samples.newCertificate("aa04", "x.other.test", "other.test", true), NOW);
        assertThat(plan.digestItems()).isEmpty();
        assertThat(plan.deliveries())
                .extracting(p -> p.route() + "/" + p.recipient())
                .containsExactly("default/a@example.org", "default/b@example.org");
    }

    @Test
    void overTheFloodLimitNewCertificatesGoToAFloodDigestButFindingsDoNot() {
        Planner planner = planner(true);
        for (int i = 0; i < 2; i++) {
            assertThat(planner.plan(
                                    Samples.newCertificate("bb0" + i, "www.web.test", "web.test", false, "team", "web"),
                                    NOW)
                            .deliveries())
                    .hasSize(3);
        }
        Plan flooded =
                planner.plan(Samples.newCertificate("bb03", "www.web.test", "web.test", false, "team", "web"), NOW);
        assertThat(flooded.deliveries()).isEmpty();
        assertThat(flooded.digestItems()).extracting(i -> i.reason()).containsExactly(Digest.Reason.FLOOD);

        Plan finding = planner.plan(
                Samples.asFinding(Samples.newCertificate("bb04", "www.web.test", "web.test", false, "team", "web")),
                NOW);
        assertThat(finding.deliveries()).hasSize(3);

        assertThat(planner.plan(
                                Samples.newCertificate("bb05", "www.web.test", "web.test", false, "team", "web"),
                                NOW.plusSeconds(61))
                        .deliveries())
                .as("a minute later the route is below its limit again")
                .hasSize(3);
    }

    @Test
    void aSerialReuseIsDeliveredUnderItsOwnKeyAndATwinUnderTheIssuances() {
        CertificateAudited first = Samples.withKeyAndName("aa09", "www.web.test");
        CertificateAudited reuse = Samples.serialReuseOf(first, "cd".repeat(32));
        assertThat(Planner.deliveryKey(first)).isEqualTo("16418:aa09");
        assertThat(Planner.deliveryKey(reuse)).isEqualTo("16418:aa09#reuse:" + "cd".repeat(32));
        assertThat(planner(true).plan(reuse, NOW).deliveries())
                .isNotEmpty()
                .allSatisfy(p -> assertThat(p.key()).isEqualTo(Planner.deliveryKey(reuse)));
    }
}
