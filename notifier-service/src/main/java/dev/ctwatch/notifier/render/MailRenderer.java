package dev.ctwatch.notifier.render;

import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.Finding;
import dev.ctwatch.events.NameAudit;
import dev.ctwatch.events.WatchMatch;
import dev.ctwatch.notifier.digest.Digest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Renders one audited certificate (or a digest of several) as a mail: subject, plain text and HTML.
 *
 * <p>Everything taken from a certificate or DNS is untrusted (anyone can get a certificate for a
 * name they control, and names, DNs and CAA records are free text): each value is reduced to one
 * line without control characters, cut visibly when over-long, and HTML-escaped in the HTML part.
 * The subject gets the same treatment, so no value can add a mail header.
 */
public final class MailRenderer {
    static final String CUT = "… (cut)";
    static final int MAX_SUBJECT = 200;
    static final int MAX_VALUE = 256;
    static final int MAX_TEXT = 1000;
    static final int MAX_ITEMS = 50;

    private static final DateTimeFormatter UTC =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private final String subjectPrefix;

    public MailRenderer(String subjectPrefix) {
        this.subjectPrefix = subjectPrefix == null ? "" : oneLine(subjectPrefix);
    }

    /** A rendered mail; every part is safe to hand to the mailer as is. */
    public record RenderedMail(String subject, String text, String html) {}

    public RenderedMail render(CertificateAudited audited) {
        String headline = cut(oneLine(headline(audited)), MAX_SUBJECT);
        String subject = cut((subjectPrefix.isEmpty() ? "" : subjectPrefix + " ") + headline, MAX_SUBJECT);
        List<Section> sections = sections(audited);
        return new RenderedMail(subject, text(headline, sections), html(headline, sections));
    }

    /** One message listing the certificates of a digest. */
    public RenderedMail render(Digest digest) {
        String headline = cut(oneLine(digest.headline()), MAX_SUBJECT);
        String subject = cut((subjectPrefix.isEmpty() ? "" : subjectPrefix + " ") + headline, MAX_SUBJECT);
        List<Section> sections = digestSections(digest);
        return new RenderedMail(subject, text(headline, sections), html(headline, sections));
    }

    static List<Section> digestSections(Digest digest) {
        List<Section> sections = new ArrayList<>();
        sections.add(new Section("What happened", List.of(Row.of("Digest", digest.explanation()))));
        int n = 0;
        for (CertificateAudited audited : digest.certificates().subList(0, Math.min(digest.size(), MAX_ITEMS))) {
            sections.add(new Section(++n + ". " + firstAndMore(names(audited.certificate())), digestRows(audited)));
        }
        if (digest.size() > MAX_ITEMS) {
            sections.add(new Section(
                    "…", List.of(Row.of("More", "and " + (digest.size() - MAX_ITEMS) + " more certificates " + CUT))));
        }
        return sections;
    }

    /** The few fields of one certificate in a digest. */
    static List<Row> digestRows(CertificateAudited audited) {
        CertificateDiscovered certificate = audited.certificate();
        CertificateIdentity identity = certificate.identity();
        List<Row> rows = new ArrayList<>();
        rows.add(new Row(
                "crt.sh",
                certificate.crtShIds().stream()
                        .map(id -> "https://crt.sh/?id=" + id)
                        .toList(),
                true));
        rows.add(Row.of("Issuer", value(identity != null ? identity.issuerDn() : certificate.issuerName())));
        rows.add(Row.of("Serial", value(serial(certificate))));
        if (identity != null) {
            rows.add(Row.of("Valid", "from " + time(identity.notBefore()) + " to " + time(identity.notAfter())));
            rows.add(Row.of("Type", identity.precertificate() ? "precertificate" : "certificate"));
        }
        rows.add(Row.of("CAA verdict", String.valueOf(audited.verdict())));
        return rows;
    }

    /** What happened, in one line: the subject and the first line of the body. */
    static String headline(CertificateAudited audited) {
        CertificateDiscovered certificate = audited.certificate();
        List<String> names = names(certificate);
        if (audited.verdict() == CaaVerdict.POSSIBLE_NON_COMPLIANCE) {
            Finding finding = audited.finding();
            List<String> forbidden =
                    finding != null && !finding.forbiddenNames().isEmpty() ? finding.forbiddenNames() : names;
            return "Possible CAA non-compliance: " + String.join(", ", forbidden);
        }
        Anomaly anomaly = certificate.anomaly();
        if (anomaly != null && anomaly.kind() == Anomaly.Kind.SERIAL_REUSE) {
            return "Serial reuse: serial " + serial(certificate) + " by " + certificate.issuerName() + " for "
                    + firstAndMore(names);
        }
        String watched = certificate.matches().isEmpty()
                ? "a watched domain"
                : certificate.matches().stream().map(WatchMatch::domain).collect(Collectors.joining(", "));
        return "New certificate for " + watched + ": " + firstAndMore(names);
    }

    /** The message body as data, shared by the mail and Slack renderings. */
    static List<Section> sections(CertificateAudited audited) {
        CertificateDiscovered certificate = audited.certificate();
        CertificateIdentity identity = certificate.identity();
        List<Section> sections = new ArrayList<>();

        List<Row> what = new ArrayList<>();
        Finding finding = audited.finding();
        if (finding != null) {
            what.add(Row.of("Finding", text(finding.summary())));
            what.add(Row.of("Evidence", String.valueOf(finding.evidence())));
            what.add(new Row("Forbidden names", items(finding.forbiddenNames()), false));
            what.add(Row.of("Note", "CAA is audited after issuance: this is evidence, not proof."));
        }
        Anomaly anomaly = certificate.anomaly();
        if (anomaly != null) {
            what.add(Row.of("Anomaly", anomaly.kind() + ": " + text(anomaly.detail())));
        }
        if (finding == null && anomaly == null) {
            what.add(Row.of("Event", "A new certificate for a watched domain was logged in Certificate Transparency."));
        }
        if (certificate.backfill()) {
            what.add(Row.of("Backfill", "found by the first poll of a newly added watch entry"));
        }
        sections.add(new Section("What happened", what));

        List<Row> cert = new ArrayList<>();
        cert.add(new Row(
                "crt.sh",
                certificate.crtShIds().stream()
                        .map(id -> "https://crt.sh/?id=" + id)
                        .toList(),
                true));
        cert.add(Row.of("Issuance key", value(String.valueOf(certificate.key()))));
        cert.add(new Row("Names", items(names(certificate)), false));
        if (identity != null && !identity.ipAddresses().isEmpty()) {
            cert.add(new Row("IP addresses", items(identity.ipAddresses()), false));
        }
        cert.add(Row.of("Issuer", value(identity != null ? identity.issuerDn() : certificate.issuerName())));
        if (identity != null) {
            cert.add(Row.of("Subject", value(identity.subjectDn())));
        }
        cert.add(Row.of("Serial", value(serial(certificate))));
        if (identity != null) {
            cert.add(Row.of("Valid", "from " + time(identity.notBefore()) + " to " + time(identity.notAfter())));
            cert.add(Row.of("Type", identity.precertificate() ? "precertificate" : "certificate"));
            cert.add(Row.of("SHA-256", value(identity.sha256Fingerprint())));
        }
        cert.add(new Row(
                "Watched entry",
                certificate.matches().stream().map(MailRenderer::watchMatch).toList(),
                false));
        sections.add(new Section("Certificate", cert));

        List<Row> caa = new ArrayList<>();
        caa.add(Row.of("Verdict", audited.verdict() + " (" + explain(audited.verdict()) + ")"));
        caa.add(new Row("Issuer CAA ids", items(audited.issuerCaaIdentities()), false));
        List<NameAudit> audits = audited.names();
        for (NameAudit name : audits.subList(0, Math.min(audits.size(), MAX_ITEMS))) {
            List<String> lines = new ArrayList<>();
            lines.add(name.outcome()
                    + (name.relevantOwner() == null
                            ? ", no CAA records up to the TLD"
                            : ", records at " + value(name.relevantOwner()))
                    + (name.checkedAt() == null ? "" : ", checked " + time(name.checkedAt())));
            lines.addAll(items(name.records()));
            if (name.detail() != null) {
                lines.add(text(name.detail()));
            }
            caa.add(new Row(value(name.name()), lines, false));
        }
        if (audits.size() > MAX_ITEMS) {
            caa.add(Row.of("…", "and " + (audits.size() - MAX_ITEMS) + " more names " + CUT));
        }
        sections.add(new Section("CAA check", caa));
        return sections;
    }

    private static String text(String headline, List<Section> sections) {
        StringBuilder out = new StringBuilder(headline).append("\n");
        for (Section section : sections) {
            out.append("\n").append(section.title()).append("\n");
            for (Row row : section.rows()) {
                String label = String.format("  %-16s", row.label() + ":");
                if (!label.endsWith(" ")) {
                    label += " "; // a long label ("Forbidden names") still gets a space before its value
                }
                List<String> values = row.values().isEmpty() ? List.of("-") : row.values();
                for (int i = 0; i < values.size(); i++) {
                    out.append(i == 0 ? label : " ".repeat(label.length()))
                            .append(values.get(i))
                            .append("\n");
                }
            }
        }
        return out.toString();
    }

    private static String html(String headline, List<Section> sections) {
        StringBuilder out = new StringBuilder("<!DOCTYPE html>\n<html><body>\n<h1>")
                .append(escape(headline))
                .append("</h1>\n");
        for (Section section : sections) {
            out.append("<h2>").append(escape(section.title())).append("</h2>\n<table>\n");
            for (Row row : section.rows()) {
                out.append("<tr><th align=\"left\" valign=\"top\">")
                        .append(escape(row.label()))
                        .append("</th><td>");
                List<String> values = row.values().isEmpty() ? List.of("-") : row.values();
                for (int i = 0; i < values.size(); i++) {
                    String v = escape(values.get(i));
                    out.append(i == 0 ? "" : "<br>").append(row.links() ? "<a href=\"" + v + "\">" + v + "</a>" : v);
                }
                out.append("</td></tr>\n");
            }
            out.append("</table>\n");
        }
        return out.append("</body></html>\n").toString();
    }

    static List<String> names(CertificateDiscovered certificate) {
        CertificateIdentity identity = certificate.identity();
        if (identity == null) {
            return List.of();
        }
        if (identity.dnsNames().isEmpty() && identity.subjectDn() != null) {
            return List.of(identity.subjectDn());
        }
        return identity.dnsNames();
    }

    static String serial(CertificateDiscovered certificate) {
        if (certificate.identity() != null && certificate.identity().serialHex() != null) {
            return certificate.identity().serialHex();
        }
        return certificate.key() == null ? "?" : certificate.key().serialHex();
    }

    static String firstAndMore(List<String> names) {
        if (names.isEmpty()) {
            return "(no names)";
        }
        String first = value(names.get(0));
        return names.size() == 1 ? first : first + " (+" + (names.size() - 1) + " more)";
    }

    private static String watchMatch(WatchMatch match) {
        StringBuilder out = new StringBuilder(value(match.domain()));
        if (match.includeSubdomains()) {
            out.append(" and subdomains");
        }
        if (!match.labels().isEmpty()) {
            Map<String, String> sorted = new TreeMap<>(match.labels());
            out.append(" (")
                    .append(sorted.entrySet().stream()
                            .map(e -> value(e.getKey()) + "=" + value(e.getValue()))
                            .collect(Collectors.joining(", ")))
                    .append(")");
        }
        return out.toString();
    }

    private static String explain(CaaVerdict verdict) {
        if (verdict == null) {
            return "no verdict";
        }
        return switch (verdict) {
            case COMPLIANT -> "every name permitted the issuer";
            case POSSIBLE_NON_COMPLIANCE -> "at least one name did not permit the issuer";
            case INCONCLUSIVE -> "no name forbade the issuer, but some lookups failed or were conditional";
            case UNKNOWN_ISSUER -> "the issuer's CAA identities are unknown, nothing could be judged";
        };
    }

    static String time(Instant instant) {
        return instant == null ? "?" : UTC.format(instant);
    }

    /** Each item as a one-line value, at most {@link #MAX_ITEMS} of them. */
    static List<String> items(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values.subList(0, Math.min(values.size(), MAX_ITEMS))) {
            out.add(value(v));
        }
        if (values.size() > MAX_ITEMS) {
            out.add("and " + (values.size() - MAX_ITEMS) + " more " + CUT);
        }
        return out;
    }

    /** A short untrusted value (name, DN, record) as one safe line. */
    static String value(String untrusted) {
        return cut(oneLine(untrusted), MAX_VALUE);
    }

    /** A longer untrusted text (finding summary, DNS detail) as one safe line. */
    static String text(String untrusted) {
        return cut(oneLine(untrusted), MAX_TEXT);
    }

    /**
     * One line: control characters (CR, LF, NUL, ...), Unicode line separators and invisible format
     * characters (bidi overrides, zero-width) become spaces, runs of spaces one space.
     */
    public static String oneLine(String untrusted) {
        if (untrusted == null) {
            return "-";
        }
        StringBuilder out = new StringBuilder(untrusted.length());
        boolean space = false;
        for (int i = 0; i < untrusted.length(); ) {
            int cp = untrusted.codePointAt(i);
            i += Character.charCount(cp);
            int type = Character.getType(cp);
            boolean blank = Character.isWhitespace(cp)
                    || Character.isISOControl(cp)
                    || Character.isSpaceChar(cp)
                    || type == Character.FORMAT
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR
                    || type == Character.SURROGATE
                    || type == Character.UNASSIGNED;
            if (blank) {
                space = out.length() > 0;
            } else {
                if (space) {
                    out.append(' ');
                    space = false;
                }
                out.appendCodePoint(cp);
            }
        }
        return out.toString();
    }

    /** Cuts at {@code max} characters, visibly, never inside a surrogate pair. */
    public static String cut(String value, int max) {
        if (value.length() <= max) {
            return value;
        }
        int end = max - CUT.length();
        if (Character.isHighSurrogate(value.charAt(end - 1))) {
            end--;
        }
        return value.substring(0, end) + CUT;
    }

    public static String escape(String value) {
        StringBuilder out = new StringBuilder(value.length() + 16);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    record Section(String title, List<Row> rows) {}

    /** A labelled value list; {@code links}: the values are URLs we built (crt.sh), not untrusted text. */
    record Row(String label, List<String> values, boolean links) {
        static Row of(String label, String value) {
            return new Row(label, List.of(value), false);
        }
    }
}
