package dev.ctwatch.notifier.render;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden-file assertions for rendered templates, in {@code src/test/resources/snapshots/}. After an
 * intended change, re-run with {@code -Dsnapshots.update=true} and review the diff of the files.
 */
final class Snapshots {
    private static final Path DIR = Path.of("src", "test", "resources", "snapshots");

    private Snapshots() {}

    static void assertMatches(String name, String actual) {
        Path file = DIR.resolve(name);
        try {
            if (Boolean.getBoolean("snapshots.update") || !Files.exists(file)) {
                boolean missing = !Files.exists(file);
                Files.createDirectories(DIR);
                Files.writeString(file, actual, StandardCharsets.UTF_8);
                assertThat(missing)
                        .as("snapshot %s was missing and has been written: review it", name)
                        .isFalse();
                return;
            }
            assertThat(actual).as("snapshot %s", name).isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
