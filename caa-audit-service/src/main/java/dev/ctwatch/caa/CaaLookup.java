package dev.ctwatch.caa;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.xbill.DNS.CAARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * CAA lookups with dnsjava's {@link Lookup}: it follows CNAME and DNAME, retries over TCP on
 * truncation, and tells NXDOMAIN, NODATA and failures (including referrals) apart. Every lookup
 * gets a throw-away cache, so an answer is never older than the query.
 */
public final class CaaLookup implements CaaRecordSource {
    private final Resolver resolver;

    public CaaLookup(Resolver resolver) {
        this.resolver = resolver;
    }

    /**
     * A lookup over the given servers ({@code host:port}), or the system resolvers when empty.
     *
     * @param timeout per query and server
     * @param retries further tries per server after a timeout or I/O error
     */
    public static CaaLookup create(Optional<List<String>> servers, Duration timeout, int retries) {
        List<Resolver> resolvers = new ArrayList<>();
        if (servers.isPresent() && !servers.get().isEmpty()) {
            for (String server : servers.get()) {
                resolvers.add(new SimpleResolver(parseServer(server)));
            }
        } else {
            resolvers.addAll(Arrays.asList(new ExtendedResolver().getResolvers()));
        }
        resolvers.forEach(r -> r.setTimeout(timeout));
        ExtendedResolver resolver = new ExtendedResolver(resolvers);
        resolver.setRetries(retries + 1); // dnsjava counts tries, not retries
        // the overall bound must exceed the sum of the per-server tries, or it cuts retries short
        resolver.setTimeout(
                timeout.multipliedBy((long) (retries + 1) * resolvers.size()).plusSeconds(1));
        return new CaaLookup(resolver);
    }

    /** {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}; the port defaults to 53. */
    static InetSocketAddress parseServer(String server) {
        String s = server.strip();
        String host = s;
        int port = 53;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("bad DNS server '" + server + "'");
            }
            host = s.substring(1, close);
            if (s.length() > close + 1) {
                if (s.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException("bad DNS server '" + server + "'");
                }
                port = Integer.parseInt(s.substring(close + 2));
            }
        } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
            host = s.substring(0, s.indexOf(':'));
            port = Integer.parseInt(s.substring(s.indexOf(':') + 1));
        }
        if (host.isEmpty() || port < 1 || port > 65535) {
            throw new IllegalArgumentException("bad DNS server '" + server + "'");
        }
        return new InetSocketAddress(host, port);
    }

    @Override
    public CaaAnswer lookup(String name) {
        Name qname;
        try {
            qname = Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            return CaaAnswer.error(name, "not a DNS name: " + e.getMessage());
        }
        Lookup lookup = new Lookup(qname, Type.CAA, DClass.IN);
        lookup.setResolver(resolver);
        lookup.setCache(null); // private cache; the default one is static, JVM-wide and keeps negative answers
        Record[] answers = lookup.run();
        String aliases = aliasChain(lookup);
        switch (lookup.getResult()) {
            case Lookup.SUCCESSFUL:
                return records(name, answers, aliases);
            case Lookup.HOST_NOT_FOUND:
                return CaaAnswer.empty(name, "NXDOMAIN" + aliases);
            case Lookup.TYPE_NOT_FOUND:
                return CaaAnswer.empty(name, "NODATA" + aliases);
            default: // TRY_AGAIN (SERVFAIL, other rcodes, timeout), UNRECOVERABLE (referral, alias loop)
                return CaaAnswer.error(name, lookup.getErrorString() + aliases);
        }
    }

    private static CaaAnswer records(String name, Record[] answers, String aliases) {
        List<CaaProperty> properties = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        String owner = null;
        for (Record r : answers) {
            if (r instanceof CAARecord) {
                properties.add(fromWire(r.rdataToWireCanonical()));
                ttl = Math.min(ttl, r.getTTL());
                owner = r.getName().toString(true);
            }
        }
        if (properties.isEmpty()) {
            return CaaAnswer.empty(name, "NODATA (no CAA among the answers)" + aliases);
        }
        return CaaAnswer.records(name, owner, properties, ttl, aliases.isEmpty() ? null : aliases.substring(2));
    }

    /**
     * Reads flags, tag and value from the RDATA octets: {@link CAARecord#getValue()} returns the
     * zone-file escaped form, which would corrupt values holding {@code "} or {@code \}.
     */
    static CaaProperty fromWire(byte[] rdata) {
        if (rdata.length < 2 || rdata.length < 2 + (rdata[1] & 0xff)) {
            throw new IllegalArgumentException("CAA RDATA too short: " + rdata.length + " octets");
        }
        int flags = rdata[0] & 0xff;
        int tagLength = rdata[1] & 0xff;
        String tag = new String(rdata, 2, tagLength, StandardCharsets.ISO_8859_1);
        String value = new String(rdata, 2 + tagLength, rdata.length - 2 - tagLength, StandardCharsets.ISO_8859_1);
        return new CaaProperty(flags, tag, value);
    }

    private static String aliasChain(Lookup lookup) {
        Name[] aliases = lookup.getAliases();
        if (aliases == null || aliases.length == 0) {
            return "";
        }
        return ", via alias "
                + Arrays.stream(aliases).map(n -> n.toString(true)).collect(Collectors.joining(" -> "));
    }
}
