package dev.ctwatch.caa.dns;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.xbill.DNS.CAARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNAMERecord;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.NameTooLongException;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Asynchronous CAA lookups over dnsjava's {@link Resolver#sendAsync}. Aliases are processed here as
 * RFC 1034 §4.3.2 says: CNAMEs and DNAMEs (only those owned by an ancestor of the name, RFC 6672)
 * are followed inside the answer, a chain that leaves the answer is re-queried at its target, a loop
 * or an overlong chain is a failure. SimpleResolver retries over TCP on truncation; ExtendedResolver
 * retries timeouts and moves between servers. No caching here ({@link CaaCache} does that).
 */
public final class CaaLookup implements CaaRecordSource {
    private final Resolver resolver;
    private final Executor executor;
    private final Clock clock;
    private final int maxAliases;
    private final LongAdder queries = new LongAdder();

    public CaaLookup(Resolver resolver, Executor executor, Clock clock, int maxAliases) {
        this.resolver = resolver;
        this.executor = executor;
        this.clock = clock;
        this.maxAliases = maxAliases;
    }

    /**
     * A lookup over the given servers ({@code host:port}), or the system resolvers when empty.
     *
     * @param timeout per query and server
     * @param retries further tries per server after a timeout or I/O error
     */
    public static CaaLookup create(
            Optional<List<String>> servers, Duration timeout, int retries, int maxAliases, Executor executor) {
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
        return new CaaLookup(resolver, executor, Clock.systemUTC(), maxAliases);
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

    /** DNS messages sent so far (follow-up queries for aliases included). */
    public long queries() {
        return queries.sum();
    }

    @Override
    public CompletionStage<CaaAnswer> lookup(String name) {
        Name qname;
        try {
            qname = Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            return CompletableFuture.completedFuture(
                    CaaAnswer.error(name, "not a DNS name: " + e.getMessage(), clock.instant()));
        }
        Chain chain = new Chain(name, qname);
        return query(chain, qname);
    }

    /** State of one lookup across follow-up queries. */
    private static final class Chain {
        final String name;
        final Set<Name> visited = new HashSet<>();
        final List<Name> aliases = new ArrayList<>();
        long ttl = Long.MAX_VALUE;

        Chain(String name, Name qname) {
            this.name = name;
            visited.add(qname);
        }

        String via() {
            return aliases.isEmpty()
                    ? ""
                    : ", via alias "
                            + aliases.stream().map(n -> n.toString(true)).collect(Collectors.joining(" -> "));
        }
    }

    private CompletionStage<CaaAnswer> query(Chain chain, Name target) {
        Message query = Message.newQuery(Record.newRecord(target, Type.CAA, DClass.IN));
        queries.increment();
        return resolver.sendAsync(query, executor)
                .handle((response, failure) -> {
                    if (failure != null) {
                        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                                ? failure.getCause()
                                : failure;
                        return CompletableFuture.completedFuture(
                                error(chain, "query for " + target.toString(true) + " failed: " + cause));
                    }
                    try {
                        return answer(chain, target, response);
                    } catch (RuntimeException e) { // e.g. CAA RDATA dnsjava could not decode
                        return CompletableFuture.completedFuture(error(chain, "unreadable answer: " + e));
                    }
                })
                .thenCompose(s -> s);
    }

    private CompletionStage<CaaAnswer> answer(Chain chain, Name target, Message response) {
        int rcode = response.getRcode();
        if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
            return done(error(chain, Rcode.string(rcode) + " for " + target.toString(true)));
        }
        List<Record> answer = response.getSection(Section.ANSWER);
        Name current = target;
        while (true) {
            List<CaaProperty> properties = new ArrayList<>();
            for (Record r : answer) {
                if (r instanceof CAARecord && r.getName().equals(current) && r.getDClass() == DClass.IN) {
                    properties.add(fromWire(r.rdataToWireCanonical()));
                    chain.ttl = Math.min(chain.ttl, r.getTTL());
                }
            }
            if (!properties.isEmpty()) {
                String via = chain.via();
                return done(CaaAnswer.records(
                        chain.name,
                        current.toString(true),
                        properties,
                        chain.ttl,
                        via.isEmpty() ? null : via.substring(2),
                        clock.instant()));
            }
            Name next = null;
            for (Record r : answer) {
                if (r instanceof CNAMERecord cname && r.getName().equals(current)) {
                    next = cname.getTarget();
                    chain.ttl = Math.min(chain.ttl, r.getTTL());
                    break;
                }
            }
            if (next == null) {
                for (Record r : answer) {
                    // a DNAME rewrites names below its owner only, never the owner itself (RFC 6672)
                    if (r instanceof DNAMERecord dname
                            && current.subdomain(r.getName())
                            && !current.equals(r.getName())) {
                        try {
                            next = current.fromDNAME(dname);
                        } catch (NameTooLongException e) {
                            return done(error(chain, "DNAME makes " + current.toString(true) + " too long"));
                        }
                        chain.ttl = Math.min(chain.ttl, r.getTTL());
                        break;
                    }
                }
            }
            if (next == null) {
                break;
            }
            chain.aliases.add(current);
            if (!chain.visited.add(next)) {
                return done(error(chain, "alias loop at " + next.toString(true)));
            }
            if (chain.aliases.size() > maxAliases) {
                return done(error(chain, "more than " + maxAliases + " aliases"));
            }
            current = next;
        }
        SOARecord soa = soa(response);
        Long negativeTtl = soa == null ? null : Math.min(Math.min(soa.getTTL(), soa.getMinimum()), chain.ttl);
        if (rcode == Rcode.NXDOMAIN) {
            return done(CaaAnswer.empty(chain.name, negativeTtl, "NXDOMAIN" + chain.via(), clock.instant()));
        }
        if (soa != null || (current.equals(target) && response.getHeader().getFlag(Flags.AA))) {
            return done(CaaAnswer.empty(chain.name, negativeTtl, "NODATA" + chain.via(), clock.instant()));
        }
        if (!current.equals(target)) {
            // the chain left the data this server returned: ask for the target itself
            return query(chain, current);
        }
        if (!response.getSection(Section.AUTHORITY).isEmpty()
                && response.getSection(Section.AUTHORITY).stream().anyMatch(r -> r.getType() == Type.NS)) {
            return done(error(chain, "referral for " + target.toString(true) + " (server does not recurse)"));
        }
        // NOERROR, nothing, no SOA: a recursive resolver's NODATA without the SOA
        return done(CaaAnswer.empty(chain.name, null, "NODATA" + chain.via(), clock.instant()));
    }

    private CaaAnswer error(Chain chain, String detail) {
        return CaaAnswer.error(chain.name, detail + chain.via(), clock.instant());
    }

    private static CompletionStage<CaaAnswer> done(CaaAnswer answer) {
        return CompletableFuture.completedFuture(answer);
    }

    private static SOARecord soa(Message response) {
        for (Record r : response.getSection(Section.AUTHORITY)) {
            if (r instanceof SOARecord soa) {
                return soa;
            }
        }
        return null;
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
}
