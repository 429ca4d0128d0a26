package dev.ctwatch.dedup;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Configuration of the dedup service. */
@ConfigMapping(prefix = "dedup")
public interface DedupConfig {

    /** Sent to crt.sh with every download. */
    @WithDefault("ctwatch/0.1 (certificate transparency monitor)")
    String userAgent();

    /** How long an issuance waits for the broker's acknowledgement before its transaction rolls back. */
    @WithDefault("PT30S")
    Duration publishTimeout();
}
