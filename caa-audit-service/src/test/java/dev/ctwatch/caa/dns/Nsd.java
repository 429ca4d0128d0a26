package dev.ctwatch.caa.dns;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** An NSD started by {@code deploy/dns.sh} on a free loopback port, serving a copy of some zones. */
public final class Nsd {
    public static final Path SCRIPT = Path.of("..", "deploy", "dns.sh");
    public static final Path TEST_ZONES = Path.of("src", "test", "resources", "zones");

    final Path dir;
    final int port;

    private Nsd(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts NSD; skips the calling test only when NSD cannot be installed. */
    public static Nsd start(Path dir, Path zones) throws Exception {
        int port = freePort();
        run("start", dir.toString(), String.valueOf(port), zones.toString());
        return new Nsd(dir, port);
    }

    public String server() {
        return "127.0.0.1:" + port;
    }

    void reload() throws Exception {
        run("reload", dir.toString());
    }

    public void stop() throws Exception {
        run("stop", dir.toString());
    }

    private static String run(String... args) throws Exception {
        String[] command = new String[args.length + 2];
        command[0] = "bash";
        command[1] = SCRIPT.toString();
        System.arraycopy(args, 0, command, 2, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = p.waitFor(5, TimeUnit.MINUTES);
        if (!done || p.exitValue() != 0) {
            Assumptions.assumeTrue(
                    !output.contains("dns: installing") && !output.contains("needs root"),
                    "NSD could not be installed by deploy/dns.sh, skipping: " + output);
            throw new IllegalStateException("deploy/dns.sh " + args[0] + " failed:\n" + output);
        }
        return output;
    }

    /** A loopback port free for both TCP and UDP right now. */
    static int freePort() throws IOException {
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
