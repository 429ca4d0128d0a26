package dev.ctwatch.notifier.routing;

import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.Finding;

/** Kind and severity of an audited certificate: what routes select on. */
public record Classification(Kind kind, Severity severity) {

    /**
     * A finding outranks an anomaly, an anomaly a plain new certificate. A finding backed by our CAA
     * history or corroborated is critical; one seen once is high.
     */
    public static Classification of(CertificateAudited audited) {
        if (audited.verdict() == CaaVerdict.POSSIBLE_NON_COMPLIANCE) {
            Finding finding = audited.finding();
            boolean strong = finding != null
                    && (finding.evidence() == Finding.Evidence.SUSTAINED
                            || finding.evidence() == Finding.Evidence.CORROBORATED);
            return new Classification(Kind.CAA_FINDING, strong ? Severity.CRITICAL : Severity.HIGH);
        }
        Anomaly anomaly = audited.certificate().anomaly();
        if (anomaly != null && anomaly.kind() == Anomaly.Kind.SERIAL_REUSE) {
            return new Classification(Kind.SERIAL_REUSE, Severity.HIGH);
        }
        if (anomaly != null && anomaly.kind() == Anomaly.Kind.ROW_MISMATCH) {
            return new Classification(Kind.ROW_MISMATCH, Severity.MEDIUM);
        }
        return new Classification(
                Kind.NEW_CERTIFICATE, audited.verdict() == CaaVerdict.INCONCLUSIVE ? Severity.LOW : Severity.INFO);
    }

    /** Findings and anomalies are sent one by one, even inside a backfill or a flood. */
    public boolean individual() {
        return kind != Kind.NEW_CERTIFICATE;
    }
}
