package dev.ctwatch.e2e;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * A precertificate and its final certificate from a throw-away CA: the pair no public fixture
 * has. Same serial and TBS but for the CT poison and SCT-list extensions.
 */
record GeneratedIssuance(
        String issuerName,
        BigInteger serial,
        List<String> names,
        String precertPem,
        String finalPem,
        Instant notBefore,
        Instant notAfter) {

    static GeneratedIssuance create(List<String> names) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ca = generator.generateKeyPair();
        X500Name issuer = new X500Name("CN=ctwatch E2E CA,O=ctwatch test,C=ZZ");
        // top bit set on purpose: crt.sh then spells the serial with a leading 00
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        BigInteger serial = new BigInteger(1, random).setBit(127);
        Instant notBefore = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant notAfter = notBefore.plus(90, ChronoUnit.DAYS);
        return new GeneratedIssuance(
                "C=ZZ, O=ctwatch test, CN=ctwatch E2E CA",
                serial,
                names,
                pem(issue(ca, issuer, serial, names, notBefore, notAfter, true)),
                pem(issue(ca, issuer, serial, names, notBefore, notAfter, false)),
                notBefore,
                notAfter);
    }

    private static X509CertificateHolder issue(
            KeyPair ca,
            X500Name issuer,
            BigInteger serial,
            List<String> names,
            Instant notBefore,
            Instant notAfter,
            boolean precertificate)
            throws Exception {
        var builder = new JcaX509v3CertificateBuilder(
                issuer,
                serial,
                Date.from(notBefore),
                Date.from(notAfter),
                new X500Name("CN=" + names.get(0)),
                ca.getPublic());
        builder.addExtension(
                Extension.subjectAlternativeName,
                false,
                new GeneralNames(names.stream()
                        .map(n -> new GeneralName(GeneralName.dNSName, n))
                        .toArray(GeneralName[]::new)));
        if (precertificate) {
            builder.addExtension(new ASN1ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3"), true, DERNull.INSTANCE);
        } else {
            builder.addExtension(
                    new ASN1ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), false, new DEROctetString(new byte[] {0, 0}));
        }
        return builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate()));
    }

    private static String pem(X509CertificateHolder cert) throws Exception {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new JcaMiscPEMGenerator(cert));
        }
        return out.toString();
    }

    /** crt.sh's spelling: lowercase hex of the DER integer content, 00 first when the top bit is set. */
    String crtShSerial() {
        String hex = serial.toString(16);
        if (hex.length() % 2 == 1) {
            hex = "0" + hex;
        }
        return Character.digit(hex.charAt(0), 16) >= 8 ? "00" + hex : hex;
    }
}
