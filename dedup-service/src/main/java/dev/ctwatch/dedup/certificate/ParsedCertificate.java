package dev.ctwatch.dedup.certificate;

import dev.ctwatch.events.CertificateIdentity;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;

/** A certificate as downloaded from crt.sh, with what the dedup decisions need from it. */
public record ParsedCertificate(byte[] der, X509Certificate x509, CertificateIdentity identity) {

    /** CT poison extension: marks a precertificate (RFC 6962). */
    static final String POISON_OID = "1.3.6.1.4.1.11129.2.4.3";
    /** Embedded SCT list: only the final certificate carries it. */
    static final String SCT_LIST_OID = "1.3.6.1.4.1.11129.2.4.2";

    private static final Pattern PEM =
            Pattern.compile("-----BEGIN CERTIFICATE-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END CERTIFICATE-----");

    public BigInteger serial() {
        return x509.getSerialNumber();
    }

    /** Parses crt.sh's {@code ?d=} answer; a body without a certificate is an error with a reason. */
    public static ParsedCertificate fromPem(String pem) throws CertificateParseException {
        Matcher m = PEM.matcher(pem == null ? "" : pem);
        if (!m.find()) {
            throw new CertificateParseException("body holds no PEM certificate");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(m.group(1).getBytes(StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new CertificateParseException("PEM body is not base64: " + e.getMessage());
        }
        return fromDer(der);
    }

    public static ParsedCertificate fromDer(byte[] der) throws CertificateParseException {
        X509Certificate x509;
        try {
            x509 = (X509Certificate)
                    CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | ClassCastException e) {
            throw new CertificateParseException("not an X.509 certificate: " + e.getMessage());
        }
        try {
            CertificateIdentity identity = new CertificateIdentity(
                    x509.getSerialNumber().toString(16),
                    x509.getIssuerX500Principal().getName(X500Principal.RFC2253),
                    x509.getSubjectX500Principal().getName(X500Principal.RFC2253),
                    subjectAltNames(x509, 2),
                    subjectAltNames(x509, 7),
                    x509.getNotBefore().toInstant(),
                    x509.getNotAfter().toInstant(),
                    x509.getCriticalExtensionOIDs() != null
                            && x509.getCriticalExtensionOIDs().contains(POISON_OID),
                    HexFormat.of().formatHex(sha256(strippedTbs(x509.getTBSCertificate()))),
                    HexFormat.of().formatHex(sha256(der)),
                    authorityKeyId(x509));
            return new ParsedCertificate(der, x509, identity);
        } catch (CertificateException | IOException | RuntimeException e) {
            throw new CertificateParseException("certificate fields unreadable: " + e.getMessage());
        }
    }

    /**
     * The TBSCertificate without the poison and SCT-list extensions, DER-encoded: identical for a
     * precertificate and its final certificate, as crt.sh's own deduplication compares them.
     */
    static byte[] strippedTbs(byte[] tbsDer) throws IOException {
        ASN1Sequence tbs = ASN1Sequence.getInstance(tbsDer);
        ASN1EncodableVector out = new ASN1EncodableVector();
        for (ASN1Encodable element : tbs) {
            if (element instanceof ASN1TaggedObject tagged && tagged.getTagNo() == 3) {
                Extensions extensions = Extensions.getInstance(tagged.getExplicitBaseObject());
                ASN1EncodableVector kept = new ASN1EncodableVector();
                for (var oid : extensions.getExtensionOIDs()) {
                    String id = oid.getId();
                    if (!id.equals(POISON_OID) && !id.equals(SCT_LIST_OID)) {
                        kept.add(extensions.getExtension(oid));
                    }
                }
                out.add(new DERTaggedObject(true, 3, new DERSequence(kept)));
            } else {
                out.add(element);
            }
        }
        return new DERSequence(out).getEncoded(ASN1Encoding.DER);
    }

    private static List<String> subjectAltNames(X509Certificate x509, int type) throws CertificateParsingException {
        List<String> names = new ArrayList<>();
        var sans = x509.getSubjectAlternativeNames();
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.size() >= 2 && Integer.valueOf(type).equals(san.get(0)) && san.get(1) instanceof String s) {
                    names.add(s);
                }
            }
        }
        return names;
    }

    private static String authorityKeyId(X509Certificate x509) {
        byte[] ext = x509.getExtensionValue(Extension.authorityKeyIdentifier.getId());
        if (ext == null) {
            return null;
        }
        byte[] keyId = AuthorityKeyIdentifier.getInstance(
                        ASN1OctetString.getInstance(ext).getOctets())
                .getKeyIdentifier();
        return keyId == null ? null : HexFormat.of().formatHex(keyId);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
