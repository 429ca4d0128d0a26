package dev.ctwatch.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One packaged ctwatch service, run as its own JVM the way deploy/run.sh runs it. */
final class ServiceProcess implements AutoCloseable {
    private final String name;
    private final String instance;
    private final Map<String, String> properties;
    private final Path log;
    private Process process;

    ServiceProcess(String name, Map<String, String> properties, Path logDir) {
        this(name, name, properties, logDir);
    }

    /** One of several instances of a service, logging to {@code <instance>.log}. */
    ServiceProcess(String name, String instance, Map<String, String> properties, Path logDir) {
        this.name = name;
        this.instance = instance;
        this.properties = properties;
        this.log = logDir.resolve(instance + ".log");
    }

    static Path jar(String service) {
        Path jar = Path.of("..", service, "target", "quarkus-app", "quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(
                    jar.toAbsolutePath()
                            + " is missing: build the services first (mvn verify from the root builds them before this module)");
        }
        return jar;
    }

    /** JVM options; deploy/run.sh starts every service with {@code -Xmx256m}. */
    private List<String> jvmOptions = List.of("-Xmx256m");

    ServiceProcess jvmOptions(List<String> options) {
        this.jvmOptions = List.copyOf(options);
        return this;
    }

    ServiceProcess start() throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar(name).toString());
        Files.createDirectories(log.getParent());
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return this;
    }

    /** The HTTP port Quarkus chose (the services run with quarkus.http.port=0). */
    int httpPort() {
        try {
            for (String line : Files.readAllLines(log)) {
                var m = java.util.regex.Pattern.compile("Listening on: http://[^:]+:(\\d+)")
                        .matcher(line);
                if (m.find()) {
                    return Integer.parseInt(m.group(1));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException(name + " has not logged its HTTP port yet");
    }

    @Override
    public String toString() {
        return instance;
    }

    /** Resident set size and its peak (VmRSS, VmHWM) in kB, from /proc; Linux only. */
    long[] rssKb() throws IOException {
        long rss = -1;
        long peak = -1;
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D", ""));
            } else if (line.startsWith("VmHWM:")) {
                peak = Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return new long[] {rss, peak};
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** SIGKILL: no shutdown hook, no offset commit, no transaction completes. */
    void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
