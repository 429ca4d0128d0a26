package dev.ctwatch.fetcher;

import static io.restassured.RestAssured.given;
import static io.restassured.RestAssured.when;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.fetcher.watchlist.Shard;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One of two replicas: it schedules, polls and answers for its half of the watchlist only. */
@QuarkusTest
@TestProfile(ShardedReplicaTest.SecondOfTwo.class)
@WithTestResource(FetcherTestResource.class)
class ShardedReplicaTest {

    public static class SecondOfTwo implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // the StatefulSet ordinal comes from the host name; here it is given
            return Map.of("fetcher.shard.count", "2", "fetcher.shard.index", "1");
        }
    }

    @Test
    void pollsOnlyItsOwnEntriesAndSaysWhoPollsTheOthers() {
        List<Map<String, Object>> entries = when().get("/api/watchlist")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("$");
        List<String> mine = entries.stream()
                .filter(e -> Shard.of((String) e.get("domain"), 2) == 1)
                .map(e -> (String) e.get("domain"))
                .toList();
        List<String> theirs = entries.stream()
                .map(e -> (String) e.get("domain"))
                .filter(d -> !mine.contains(d))
                .toList();
        // the test watchlist has a dozen entries: both halves are non-empty
        assertThat(mine).isNotEmpty();
        assertThat(theirs).isNotEmpty();
        for (Map<String, Object> entry : entries) {
            boolean own = mine.contains(entry.get("domain"));
            assertThat(entry.get("polledHere")).isEqualTo(own);
            assertThat(entry.get("shard")).isEqualTo(own ? 1 : 0);
            // only its own entries are scheduled
            assertThat(entry.get("nextPollAt") != null).isEqualTo(own);
        }

        given().post("/api/watchlist/{entry}/poll", theirs.get(0))
                .then()
                .statusCode(409)
                .body(org.hamcrest.Matchers.containsString("polled by shard 0"));
        assertThat(FetcherTestResource.fake.requests(scenario(theirs.get(0)))).isEmpty();

        // readiness answers for this replica's entries only
        JsonPath ready = when().get("/q/health/ready").then().extract().jsonPath();
        Map<String, Object> freshness = ready.getMap("checks.find { it.name == 'crt.sh freshness' }.data");
        assertThat(freshness).containsKeys(mine.toArray(String[]::new));
        assertThat(freshness).doesNotContainKeys(theirs.toArray(String[]::new));
        assertThat(freshness).containsEntry("shard", "1 of 2");
    }

    private static String scenario(String domain) {
        return domain.substring(0, domain.indexOf('.'));
    }
}
