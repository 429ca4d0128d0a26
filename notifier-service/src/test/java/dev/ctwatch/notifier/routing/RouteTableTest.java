package dev.ctwatch.notifier.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ctwatch.notifier.NotifierConfig;
import dev.ctwatch.notifier.channel.Channels;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Routes from configuration keys, and the start-up messages for wrong ones. */
class RouteTableTest {

    @Test
    void routesAreReadFromConfigurationWithDefaultsInCode() {
        Router router = RouteTable.from(config(Map.of(
                "notifier.mail.to", "secops@example.com",
                "notifier.routes.payments.labels.team", "payments",
                "notifier.routes.payments.kinds", "NEW_CERTIFICATE,CAA_FINDING",
                "notifier.routes.payments.slack-webhook-url", "https://hooks.slack.com/services/T0/B0/x",
                "notifier.routes.payments.webhook-url", "https://payments.example.com/ctwatch",
                "notifier.routes.payments.webhook-secret", "s3cret",
                "notifier.routes.urgent.min-severity", "HIGH",
                "notifier.routes.urgent.mail-to", "oncall@example.com, cto@example.com",
                "notifier.routes.urgent.flood-limit", "5")));

        Route payments = router.find("payments").orElseThrow();
        assertThat(payments.labels()).isEqualTo(Map.of("team", "payments"));
        assertThat(payments.kinds()).isEqualTo(EnumSet.of(Kind.NEW_CERTIFICATE, Kind.CAA_FINDING));
        assertThat(payments.minSeverity()).isEqualTo(Severity.INFO);
        assertThat(payments.floodLimit()).isEqualTo(30);
        assertThat(payments.destinations())
                .containsExactly(
                        new Route.Destination(Channels.SLACK, "url"), new Route.Destination(Channels.WEBHOOK, "url"));
        assertThat(payments.toString()).doesNotContain("hooks.slack.com").doesNotContain("s3cret");

        Route urgent = router.find("urgent").orElseThrow();
        assertThat(urgent.mailTo()).containsExactly("oncall@example.com", "cto@example.com");
        assertThat(urgent.minSeverity()).isEqualTo(Severity.HIGH);
        assertThat(urgent.floodLimit()).isEqualTo(5);

        assertThat(router.all()).extracting(Route::name).containsExactly("payments", "urgent", "default");
        assertThat(router.find("default").orElseThrow().mailTo()).containsExactly("secops@example.com");
    }

    @Test
    void everyProblemIsReportedAtOnceWithItsKeyAndNoSecret() {
        assertThatThrownBy(() -> RouteTable.from(config(Map.of(
                        "notifier.routes.empty.labels.team", "web",
                        "notifier.routes.nosecret.webhook-url", "https://hooks.example.com/very-secret-path",
                        "notifier.routes.badurl.slack-webhook-url", "ftp://hooks.example.com/secret-token",
                        "notifier.routes.badmail.mail-to", "not-an-address",
                        "notifier.routes.flood.mail-to", "a@example.com",
                        "notifier.routes.flood.flood-limit", "0",
                        "notifier.routes.default.mail-to", "a@example.com"))))
                .isInstanceOf(RouteTable.InvalidRoutesException.class)
                .hasMessageContaining("route 'empty' has no destination")
                .hasMessageContaining(
                        "notifier.routes.nosecret.webhook-secret is required with notifier.routes.nosecret.webhook-url")
                .hasMessageContaining("notifier.routes.badurl.slack-webhook-url must be an absolute http(s) URL")
                .hasMessageContaining("notifier.routes.badmail.mail-to: 'not-an-address' is not a plain mail address")
                .hasMessageContaining("notifier.routes.flood.flood-limit must be at least 1")
                .hasMessageContaining("route name 'default' is reserved")
                .hasMessageContaining("the default route has no destination: set notifier.mail.to")
                .message()
                .doesNotContain("very-secret-path")
                .doesNotContain("secret-token");
    }

    @Test
    void aDefaultRouteOfSlackAloneIsEnough() {
        Router router =
                RouteTable.from(config(Map.of("notifier.slack.webhook-url", "https://hooks.slack.com/services/T/B/x")));
        assertThat(router.routes()).isEmpty();
        assertThat(router.all().get(0).destinations()).containsExactly(new Route.Destination(Channels.SLACK, "url"));
    }

    @Test
    void secretsComeFromEnvironmentVariablesOfARouteDefinedInConfiguration() {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(NotifierConfig.class)
                .withSources(new PropertiesConfigSource(
                        Map.of(
                                "notifier.mail.to",
                                "secops@example.com",
                                "notifier.routes.payments.labels.team",
                                "payments"),
                        "test",
                        100))
                .withSources(new EnvConfigSource(
                        Map.of(
                                "NOTIFIER_ROUTES_PAYMENTS_WEBHOOK_URL", "https://payments.example.com/hook",
                                "NOTIFIER_ROUTES_PAYMENTS_WEBHOOK_SECRET", "from-a-secret"),
                        300))
                .addDefaultInterceptors()
                .build();
        Route payments = RouteTable.from(config.getConfigMapping(NotifierConfig.class))
                .find("payments")
                .orElseThrow();
        assertThat(payments.webhook()).map(Object::toString).contains("https://payments.example.com/hook");
        assertThat(payments.webhookSecret()).contains("from-a-secret");
    }

    static NotifierConfig config(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(NotifierConfig.class)
                .withSources(new PropertiesConfigSource(properties, "test", 100))
                .addDefaultInterceptors()
                .build();
        return config.getConfigMapping(NotifierConfig.class);
    }
}
