package dev.ctwatch.dedup;

import dev.ctwatch.events.IssuanceKey;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.net.IDN;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Known issuances for other teams: by DNS name (exact or below) or by issuance key, paged. */
@Path("/api/certificates")
@Produces(MediaType.APPLICATION_JSON)
public class CertificateResource {
    private static final int MAX_SIZE = 500;

    public record Issuance(
            String key,
            List<Long> crtShIds,
            List<String> names,
            String issuer,
            Instant notBefore,
            Instant notAfter,
            Boolean precertificate,
            boolean downloaded,
            String anomaly,
            Instant firstSeenAt) {}

    public record Page(String name, int page, int size, List<Issuance> issuances) {}

    private static final String SELECT = """
            select i.issuer_ca_id, i.serial_hex, i.dns_names, i.issuer_name, i.not_before, i.not_after,
                   i.precertificate, i.downloaded, i.anomaly, i.first_seen_at,
                   coalesce((select string_agg(e.crtsh_id::text, ',' order by e.crtsh_id)
                             from {h-schema}crtsh_entry e where e.issuance_id = i.id), '')
            from {h-schema}issuance i
            """;

    @Inject
    EntityManager em;

    @GET
    @Transactional
    @SuppressWarnings("unchecked")
    public Page byName(
            @QueryParam("name") String name,
            @QueryParam("page") @DefaultValue("0") int page,
            @QueryParam("size") @DefaultValue("50") int size) {
        if (name == null || name.isBlank()) {
            throw new BadRequestException("query parameter 'name' is required, e.g. ?name=example.com");
        }
        if (page < 0 || size < 1 || size > MAX_SIZE) {
            throw new BadRequestException("page must be >= 0 and size between 1 and " + MAX_SIZE);
        }
        String ascii;
        try {
            ascii = IDN.toASCII(name.strip(), IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new BadRequestException("not a DNS name: " + e.getMessage());
        }
        // dns_names is newline-separated: match a whole line equal to the name or ending in .name
        String escaped = ascii.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
        List<Object[]> rows = em.createNativeQuery(SELECT + """
                        where (E'\\n' || lower(i.dns_names) || E'\\n') like ?1
                           or (E'\\n' || lower(i.dns_names) || E'\\n') like ?2
                        order by i.first_seen_at desc, i.id desc offset ?3 limit ?4
                        """)
                .setParameter(1, "%\n" + escaped + "\n%")
                .setParameter(2, "%." + escaped + "\n%")
                .setParameter(3, page * size)
                .setParameter(4, size)
                .getResultList();
        return new Page(
                ascii,
                page,
                size,
                rows.stream().map(CertificateResource::issuance).toList());
    }

    @GET
    @Path("/{key}")
    @Transactional
    @SuppressWarnings("unchecked")
    public List<Issuance> byKey(@PathParam("key") String text) {
        IssuanceKey key;
        try {
            key = IssuanceKey.parse(text);
        } catch (IllegalArgumentException e) {
            throw new BadRequestException(e.getMessage());
        }
        List<Object[]> rows = em.createNativeQuery(
                        SELECT + " where i.issuer_ca_id = ?1 and i.serial_hex = ?2 order by i.id")
                .setParameter(1, key.issuerCaId())
                .setParameter(2, key.serialHex())
                .getResultList();
        if (rows.isEmpty()) {
            throw new NotFoundException("no issuance " + key);
        }
        return rows.stream().map(CertificateResource::issuance).toList();
    }

    private static Issuance issuance(Object[] r) {
        String ids = (String) r[10];
        return new Issuance(
                r[0] + ":" + r[1],
                ids.isEmpty()
                        ? List.of()
                        : Arrays.stream(ids.split(",")).map(Long::valueOf).toList(),
                Arrays.stream(((String) r[2]).split("\n"))
                        .filter(s -> !s.isEmpty())
                        .toList(),
                (String) r[3],
                instant(r[4]),
                instant(r[5]),
                (Boolean) r[7] ? (Boolean) r[6] : null,
                (Boolean) r[7],
                (String) r[8],
                instant(r[9]));
    }

    private static Instant instant(Object value) {
        if (value instanceof Timestamp t) {
            return t.toInstant();
        }
        if (value instanceof Instant i) {
            return i;
        }
        if (value instanceof java.time.OffsetDateTime o) {
            return o.toInstant();
        }
        return null;
    }
}
