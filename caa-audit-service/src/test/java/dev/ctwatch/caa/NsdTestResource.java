package dev.ctwatch.caa;

import dev.ctwatch.caa.dns.Nsd;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Path;
import java.util.Map;

/** NSD with the test zones for {@code @QuarkusTest}s; the zone files live in {@link #DIR}. */
public class NsdTestResource implements QuarkusTestResourceLifecycleManager {
    static final Path DIR = Path.of("target", "nsd-quarkus");
    private Nsd nsd;

    @Override
    public Map<String, String> start() {
        try {
            new ProcessBuilder("bash", Nsd.SCRIPT.toString(), "stop", DIR.toString())
                    .start()
                    .waitFor(); // a leftover of an aborted run
            nsd = Nsd.start(DIR, Nsd.TEST_ZONES);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start NSD", e);
        }
        return Map.of("caa-audit.dns.servers", nsd.server());
    }

    @Override
    public void stop() {
        try {
            if (nsd != null) {
                nsd.stop();
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop NSD", e);
        }
    }

    static void reload() throws Exception {
        Process p = new ProcessBuilder("bash", Nsd.SCRIPT.toString(), "reload", DIR.toString())
                .inheritIO()
                .start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("deploy/dns.sh reload failed");
        }
    }
}
