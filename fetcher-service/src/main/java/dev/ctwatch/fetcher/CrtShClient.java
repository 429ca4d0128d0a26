package dev.ctwatch.fetcher;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.rest.client.annotation.ClientHeaderParam;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/**
 * crt.sh's identity search. No {@code Accept: application/json}: crt.sh turns that header into an
 * extra {@code output=json} parameter; a descriptive User-Agent, since crt.sh blocks borrowed ones.
 */
@RegisterRestClient(configKey = "crtsh")
@ClientHeaderParam(name = "User-Agent", value = "${fetcher.user-agent}")
@ClientHeaderParam(name = "Accept", value = "*/*")
public interface CrtShClient {

    /**
     * @param match {@code ILIKE} for hyphenated domains (crt.sh's default mode for them drops
     *     subdomain-only certificates), else null
     */
    @GET
    @Path("/")
    Response identity(
            @QueryParam("Identity") String identity,
            @QueryParam("exclude") String exclude,
            @QueryParam("output") String output,
            @QueryParam("match") String match);

    static Response search(CrtShClient client, String domain) {
        return client.identity(domain, "expired", "json", domain.contains("-") ? "ILIKE" : null);
    }
}
