package dev.ctwatch.fetcher.watchlist;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which watch entries this replica polls. crt.sh rate-limits per client IP, so replicas split the
 * watchlist instead of sharing it: an entry belongs to exactly one of {@code count} shards, chosen
 * by a hash of its domain that every replica computes alike, so no entry is polled twice.
 */
public record Shard(int index, int count) {
    private static final Pattern ORDINAL = Pattern.compile("-(\\d+)$");

    public Shard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException(
                    "fetcher shard " + index + " of " + count + " is invalid: the index must be in [0, count)");
        }
    }

    public static final Shard ALL = new Shard(0, 1);

    /**
     * The shard from configuration: an explicit index, else a StatefulSet pod's ordinal (the
     * {@code -<n>} ending of its host name). With more than one shard and neither, start-up fails:
     * guessing could leave entries unpolled or poll them twice.
     */
    public static Shard of(int count, Optional<Integer> index, String hostname) {
        if (index.isPresent()) {
            return new Shard(index.get(), count);
        }
        if (count == 1) {
            return ALL;
        }
        Matcher ordinal = ORDINAL.matcher(hostname == null ? "" : hostname);
        if (!ordinal.find()) {
            throw new IllegalArgumentException("fetcher.shard.count is " + count
                    + " but fetcher.shard.index is not set and the host name '" + hostname
                    + "' ends in no StatefulSet ordinal");
        }
        return new Shard(Integer.parseInt(ordinal.group(1)), count);
    }

    /** The shard an entry belongs to: stable across replicas, JVMs and restarts. */
    public static int of(String domain, int count) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(domain.getBytes(StandardCharsets.UTF_8));
            long value = ((digest[0] & 0xffL) << 24)
                    | ((digest[1] & 0xffL) << 16)
                    | ((digest[2] & 0xffL) << 8)
                    | (digest[3] & 0xffL);
            return (int) (value % count);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The shard, among this one's {@code count}, that polls the entry. */
    public int owner(String domain) {
        return of(domain, count);
    }

    public boolean owns(String domain) {
        return owner(domain) == index;
    }
}
