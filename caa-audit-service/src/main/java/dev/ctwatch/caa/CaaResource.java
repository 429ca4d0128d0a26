package dev.ctwatch.caa;

import dev.ctwatch.caa.history.CaaHistory;
import dev.ctwatch.caa.policy.CaaEvaluator;
import dev.ctwatch.caa.policy.IssuanceContext;
import dev.ctwatch.caa.policy.IssueValue;
import dev.ctwatch.events.NameAudit;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/** {@code /api/caa}: ask for the CAA outcome of a name now, or read what we stored about it. */
@Path("/api/caa")
@Produces(MediaType.APPLICATION_JSON)
public class CaaResource {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final int MAX_HISTORY = 1000;

    private final CaaAuditService audits;
    private final CaaHistory history;

    public CaaResource(CaaAuditService audits, CaaHistory history) {
        this.audits = audits;
        this.history = history;
    }

    /** The answer of {@code /check}: the outcome for the name and the CAA identities asked about. */
    public record Check(
            String name,
            List<String> cas,
            String outcome,
            String relevantOwner,
            List<String> records,
            Long ttlSeconds,
            Instant checkedAt,
            String detail) {
        static Check of(NameAudit audit, List<String> cas) {
            return new Check(
                    audit.name(),
                    cas,
                    audit.outcome().name(),
                    audit.relevantOwner(),
                    audit.records(),
                    audit.ttlSeconds(),
                    audit.checkedAt(),
                    audit.detail());
        }
    }

    /** One stored observation. */
    public record Observation(
            String queriedName,
            String status,
            String relevantOwner,
            List<String> records,
            Long ttlSeconds,
            String detail,
            Instant observedAt,
            Instant lastSeen) {}

    @GET
    @Path("/check")
    public CompletionStage<Response> check(
            @QueryParam("name") String name,
            @QueryParam("ca") List<String> cas,
            @QueryParam("account-uri") String accountUri,
            @QueryParam("validation-method") String validationMethod) {
        String problem = problem(name, cas, accountUri, validationMethod);
        if (problem != null) {
            return CompletableFuture.completedFuture(badRequest(problem));
        }
        String n = CaaEvaluator.normalizeName(name);
        List<String> identities =
                cas.stream().map(c -> c.strip().toLowerCase(Locale.ROOT)).toList();
        IssuanceContext context = new IssuanceContext(blankToNull(accountUri), blankToNull(validationMethod));
        return audits.check(n, identities, context)
                .thenApply(audit -> Response.ok(Check.of(audit, identities)).build());
    }

    @GET
    @Path("/history")
    public Response history(@QueryParam("name") String name, @QueryParam("limit") String limit) {
        if (name == null || !isDnsName(CaaEvaluator.lookupName(CaaEvaluator.normalizeName(name)))) {
            return badRequest("name must be a DNS name, e.g. name=www.example.com");
        }
        int max = 100;
        if (limit != null) {
            try {
                max = Integer.parseInt(limit.strip());
            } catch (NumberFormatException e) {
                max = -1;
            }
            if (max < 1 || max > MAX_HISTORY) {
                return badRequest("limit must be a number from 1 to " + MAX_HISTORY);
            }
        }
        String n = CaaEvaluator.lookupName(CaaEvaluator.normalizeName(name));
        List<Observation> rows = history.history(n, max).stream()
                .map(o -> new Observation(
                        o.queriedName,
                        o.status,
                        o.relevantOwner,
                        o.recordList(),
                        o.ttlSeconds,
                        o.detail,
                        o.observedAt,
                        o.lastSeen))
                .toList();
        return Response.ok(Map.of("name", n, "observations", rows)).build();
    }

    static String problem(String name, List<String> cas, String accountUri, String validationMethod) {
        if (name == null || name.isBlank()) {
            return "name is required, e.g. name=www.example.com";
        }
        if (!isDnsName(CaaEvaluator.lookupName(CaaEvaluator.normalizeName(name)))) {
            return "name '" + name + "' is not a DNS name";
        }
        if (cas == null || cas.isEmpty()) {
            return "at least one ca (a CAA issuer domain name, e.g. ca=letsencrypt.org) is required";
        }
        for (String ca : cas) {
            if (ca == null || !IssueValue.DOMAIN.matcher(ca.strip()).matches()) {
                return "ca '" + ca + "' is not a CAA issuer domain name";
            }
        }
        if (accountUri != null && !accountUri.isBlank()) {
            try {
                if (new URI(accountUri).getScheme() == null) {
                    return "account-uri must be an absolute URI";
                }
            } catch (URISyntaxException e) {
                return "account-uri is not a URI: " + e.getMessage();
            }
        }
        if (validationMethod != null
                && !validationMethod.isBlank()
                && !IssueValue.METHOD_LABEL
                        .matcher(validationMethod.toLowerCase(Locale.ROOT))
                        .matches()) {
            return "validation-method must be a method label such as dns-01 or ca-tbr-7";
        }
        return null;
    }

    static boolean isDnsName(String name) {
        if (name.isEmpty() || name.length() > 253) {
            return false;
        }
        for (String label : name.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static Response badRequest(String message) {
        return Response.status(Response.Status.BAD_REQUEST)
                .type(MediaType.APPLICATION_JSON)
                .entity(Map.of("error", message))
                .build();
    }
}
