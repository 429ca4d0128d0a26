package dev.ctwatch.dedup;

import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.faulttolerance.api.ExponentialBackoff;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/** Downloads certificates from crt.sh, retrying what may pass on a second try. */
@ApplicationScoped
public class CertificateSource {

    /** crt.sh could not give the certificate now (overload, rate limit, outage): retry later. */
    public static class Unavailable extends RuntimeException {
        public Unavailable(String message) {
            super(message);
        }
    }

    @Inject
    @RestClient
    CrtShDownloads crtSh;

    @Inject
    MeterRegistry metrics;

    /**
     * The certificate of a crt.sh id. A body that is not a certificate is permanent and thrown as
     * {@link CertificateParseException}; status errors and I/O failures are retried.
     */
    @Retry(maxRetries = 4, delay = 500, jitter = 250, retryOn = Unavailable.class)
    @ExponentialBackoff(maxDelay = 8000)
    public ParsedCertificate fetch(long crtShId) throws CertificateParseException {
        String body;
        try (Response response = crtSh.download(crtShId)) {
            if (response.getStatus() != 200) {
                metrics.counter("ctwatch.dedup.download.failures", "reason", "http-" + response.getStatus())
                        .increment();
                throw new Unavailable("crt.sh answered HTTP " + response.getStatus() + " for ?d=" + crtShId);
            }
            body = response.readEntity(String.class);
        } catch (ProcessingException e) {
            metrics.counter("ctwatch.dedup.download.failures", "reason", "io").increment();
            throw new Unavailable("crt.sh unreachable for ?d=" + crtShId + ": " + e.getMessage());
        }
        metrics.counter("ctwatch.dedup.downloads").increment();
        return ParsedCertificate.fromPem(body);
    }
}
