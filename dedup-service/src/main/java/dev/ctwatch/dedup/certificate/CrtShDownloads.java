package dev.ctwatch.dedup.certificate;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.rest.client.annotation.ClientHeaderParam;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** crt.sh's certificate download, {@code ?d=<id>}: PEM as application/pkix-cert. */
@RegisterRestClient(configKey = "crtsh")
@ClientHeaderParam(name = "User-Agent", value = "${dedup.user-agent}")
@ClientHeaderParam(name = "Accept", value = "*/*")
public interface CrtShDownloads {

    @GET
    @Path("/")
    Response download(@QueryParam("d") long crtShId);
}
