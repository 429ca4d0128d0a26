package dev.ctwatch.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.events.CertificateObserved;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The age of the oldest pending row as Prometheus sees it, refreshed by the scheduled pending job
 * (every second in tests) from the real table.
 */
@QuarkusTest
@WithTestResource(DedupTestResources.class)
class PendingDownloadsGaugeTest {
    private static final String OLDEST = "ctwatch_dedup_pending_downloads_oldest_seconds";
    /** Older than any row another test parks, so the gauge is this row's age while it waits. */
    private static final long AGE = Duration.ofDays(2).toSeconds();

    @Inject
    DataSource db;

    @Inject
    PendingDownloads pending;

    @Test
    void theOldestPendingRowsAgeIsExportedInSeconds() throws Exception {
        assertThat(RestAssured.get("/q/metrics").asString())
                .as("exported with its unit")
                .contains("# TYPE " + OLDEST + " gauge");

        long id = CrtShRows.nextId();
        BigInteger serial = CrtShRows.serial();
        CertificateObserved observed;
        try (CrtShRows rows = new CrtShRows()) {
            observed = rows.observed(id, CrtShRows.issuer(), serial, false, "oldest.pending.test");
        }
        // crt.sh keeps failing it, so the row stays pending until this test removes it
        DedupTestResources.FAILURES.put(id, 503);
        try {
            pending.park(observed, "test: crt.sh is down");
            // backdated; next attempt far off, so the pending job leaves it alone meanwhile
            // (a retry already under way only reschedules it: first_failed_at stays)
            update(
                    "update dedup.pending_download set first_failed_at = now() - make_interval(secs => ?),"
                            + " next_attempt_at = now() + interval '1 day' where crtsh_id = ?",
                    AGE,
                    id);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> assertThat(gauge(OLDEST))
                            .as("at least the backdated row's age, in seconds")
                            .isBetween((double) AGE, (double) AGE + 3600));
        } finally {
            update("delete from dedup.pending_download where crtsh_id = ?", id);
            DedupTestResources.FAILURES.remove(id);
        }
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() ->
                        assertThat(gauge(OLDEST)).as("the row left the queue").isLessThan(AGE));
    }

    private void update(String sql, long... parameters) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement st = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                st.setLong(i + 1, parameters[i]);
            }
            st.executeUpdate();
        }
    }

    /** The value of a gauge without labels; fails when it is not exported. */
    private static double gauge(String name) {
        String body = RestAssured.get("/q/metrics").asString();
        Matcher m = Pattern.compile("^" + name + "(\\{[^}]*})?\\s+(\\S+)", Pattern.MULTILINE)
                .matcher(body);
        assertThat(m.find()).as(name + " in /q/metrics").isTrue();
        return Double.parseDouble(m.group(2));
    }
}
