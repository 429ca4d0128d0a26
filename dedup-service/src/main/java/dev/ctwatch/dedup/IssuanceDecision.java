package dev.ctwatch.dedup;

import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.IssuanceKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/** What a newly seen crt.sh id is, given the issuances already stored for its issuer and serial. */
public final class IssuanceDecision {

    public enum Kind {
        /** No issuance with this issuer and serial yet: emit. */
        NEW,
        /** Same issuer, serial and TBS hash as a stored issuance (precertificate and final certificate). */
        TWIN,
        /** Same issuer and serial, different TBS: a CA reused a serial. Emitted with an anomaly. */
        SERIAL_REUSE
    }

    /** TBS hash of an issuance recorded from crt.sh's row without its certificate (backfill). */
    public static final String UNKNOWN_TBS = "";

    private IssuanceDecision() {}

    /**
     * @param tbsHash the new certificate's TBS hash, or null when it was not downloaded (backfill)
     */
    public static Kind decide(List<String> storedTbsHashes, String tbsHash) {
        if (storedTbsHashes.isEmpty()) {
            return Kind.NEW;
        }
        // without both hashes, same issuer and serial is all we can compare: the safe reading is a twin
        if (tbsHash == null || storedTbsHashes.contains(UNKNOWN_TBS)) {
            return Kind.TWIN;
        }
        return storedTbsHashes.contains(tbsHash) ? Kind.TWIN : Kind.SERIAL_REUSE;
    }

    /**
     * Whether crt.sh served a certificate other than the one its row describes: serials compared as
     * integers, issuers by their CN and O attributes (crt.sh and the JDK order and quote DNs differently).
     */
    public static Optional<Anomaly> rowMismatch(CrtShRow row, CertificateIdentity certificate) {
        List<String> problems = new ArrayList<>();
        if (row.serialNumber() != null
                && !IssuanceKey.parseSerial(row.serialNumber())
                        .equals(IssuanceKey.parseSerial(certificate.serialHex()))) {
            problems.add("row serial " + row.serialNumber() + " but certificate serial " + certificate.serialHex());
        }
        if (row.issuerName() != null) {
            for (String type : List.of("CN", "O")) {
                String fromRow = attribute(splitCrtShDn(row.issuerName()), type);
                String fromCert = attribute(rfc2253(certificate.issuerDn()), type);
                if (fromRow != null && fromCert != null && !fromRow.equalsIgnoreCase(fromCert)) {
                    problems.add(
                            "row issuer " + type + "=" + fromRow + " but certificate issuer " + type + "=" + fromCert);
                }
            }
        }
        return problems.isEmpty()
                ? Optional.empty()
                : Optional.of(new Anomaly(Anomaly.Kind.ROW_MISMATCH, String.join("; ", problems)));
    }

    /** crt.sh writes issuers as {@code C=US, O=Let's Encrypt, CN=R3}. */
    static List<String[]> splitCrtShDn(String dn) {
        List<String[]> out = new ArrayList<>();
        for (String part : dn.split(",\\s*(?=[A-Za-z][A-Za-z0-9.]*=)")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.add(new String[] {
                    part.substring(0, eq).strip(), part.substring(eq + 1).strip()
                });
            }
        }
        return out;
    }

    static List<String[]> rfc2253(String dn) {
        List<String[]> out = new ArrayList<>();
        try {
            for (Rdn rdn : new LdapName(dn).getRdns()) {
                out.add(new String[] {rdn.getType(), String.valueOf(rdn.getValue())});
            }
        } catch (InvalidNameException e) {
            // an unparsable DN cannot be compared; the serial check still applies
        }
        return out;
    }

    private static String attribute(List<String[]> rdns, String type) {
        return rdns.stream()
                .filter(a -> a[0].toUpperCase(Locale.ROOT).equals(type))
                .map(a -> a[1])
                .findFirst()
                .orElse(null);
    }
}
