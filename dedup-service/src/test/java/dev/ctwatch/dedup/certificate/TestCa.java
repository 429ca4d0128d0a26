package dev.ctwatch.dedup.certificate;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Issues test certificates: a precertificate and its final certificate share everything but CT extensions. */
public final class TestCa {
    private final KeyPair key;
    private final X500Name name;

    public TestCa(String cn) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        key = generator.generateKeyPair();
        name = new X500Name("CN=" + cn + ",O=ctwatch test,C=ZZ");
    }

    public byte[] issue(BigInteger serial, List<String> names, boolean precertificate, Instant notBefore)
            throws Exception {
        var builder = new JcaX509v3CertificateBuilder(
                name,
                serial,
                Date.from(notBefore),
                Date.from(notBefore.plus(90, ChronoUnit.DAYS)),
                new X500Name("CN=" + names.get(0)),
                key.getPublic());
        builder.addExtension(
                Extension.subjectAlternativeName,
                false,
                new GeneralNames(names.stream()
                        .map(n -> new GeneralName(GeneralName.dNSName, n))
                        .toArray(GeneralName[]::new)));
        if (precertificate) {
            builder.addExtension(Extension.create(
                    new org.bouncycastle.asn1.ASN1ObjectIdentifier(ParsedCertificate.POISON_OID),
                    true,
                    DERNull.INSTANCE));
        } else {
            // the SCT list's content does not matter to the TBS comparison, only its presence
            builder.addExtension(
                    new org.bouncycastle.asn1.ASN1ObjectIdentifier(ParsedCertificate.SCT_LIST_OID),
                    false,
                    new DEROctetString(new byte[] {0, 0}));
        }
        return builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()))
                .getEncoded();
    }

    /** PEM, as crt.sh serves a certificate for {@code ?d=<id>}. */
    public static String pem(byte[] der) {
        return "-----BEGIN CERTIFICATE-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END CERTIFICATE-----\n";
    }
}
