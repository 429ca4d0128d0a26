package dev.ctwatch.dedup.certificate;

import dev.ctwatch.dedup.DedupConfig;
import dev.ctwatch.dedup.PendingDownloads;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.faulttolerance.api.ExponentialBackoff;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
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

    private final DownloadLimiter limiter;

    @Inject
    CertificateSource(DedupConfig config) {
        limiter = new DownloadLimiter(config.download().minInterval());
    }

    /**
     * The certificate of a crt.sh id. A body that is not a certificate is permanent and thrown as
     * {@link CertificateParseException}; status errors and I/O failures are retried briefly here,
     * then by the pending job ({@link PendingDownloads}) so one slow id never holds up a batch.
     */
    @Retry(maxRetries = 2, delay = 500, jitter = 250, retryOn = Unavailable.class)
    @ExponentialBackoff(maxDelay = 4000)
    public ParsedCertificate fetch(long crtShId) throws CertificateParseException {
        return limiter.call(() -> download(crtShId));
    }

    /**
     * The certificate of a crt.sh id, downloaded only if no other download runs or waits now (empty
     * otherwise): low-priority work must never hold up the hot path. No quick retries either; the
     * caller tries again on its next run. Failures are thrown as by {@link #fetch}.
     */
    public Optional<ParsedCertificate> fetchIfIdle(long crtShId) throws CertificateParseException {
        return limiter.callIfIdle(() -> download(crtShId));
    }

    private ParsedCertificate download(long crtShId) throws CertificateParseException {
        String body;
        int status;
        try (Response response = crtSh.download(crtShId)) {
            status = response.getStatus();
            body = status == 200 ? response.readEntity(String.class) : null;
        } catch (WebApplicationException e) {
            // the REST client turns statuses >= 400 into exceptions
            status = e.getResponse().getStatus();
            body = null;
        } catch (ProcessingException e) {
            metrics.counter("ctwatch.dedup.download.failures", "reason", "io").increment();
            throw new Unavailable("crt.sh unreachable for ?d=" + crtShId + ": " + e.getMessage());
        }
        if (status == 404) {
            // crt.sh answers 404 for an id it does not know: retrying cannot help
            metrics.counter("ctwatch.dedup.download.failures", "reason", "http-404")
                    .increment();
            throw new CertificateParseException("crt.sh knows no certificate with id " + crtShId);
        }
        if (status != 200) {
            metrics.counter("ctwatch.dedup.download.failures", "reason", "http-" + status)
                    .increment();
            throw new Unavailable("crt.sh answered HTTP " + status + " for ?d=" + crtShId);
        }
        metrics.counter("ctwatch.dedup.downloads").increment();
        return ParsedCertificate.fromPem(body);
    }
}
