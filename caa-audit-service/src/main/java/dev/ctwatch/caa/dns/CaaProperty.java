package dev.ctwatch.caa.dns;

import java.util.Locale;

/**
 * One CAA resource record (RFC 8659 §4.1): flags, tag and value as the wire carried them. The value
 * holds one char per octet (ISO-8859-1), so nothing is lost or escaped.
 */
public record CaaProperty(int flags, String tag, String value) {
    /** RFC 8659 issuer-critical flag, the most significant bit of the flags octet. */
    public static final int CRITICAL = 128;

    public boolean critical() {
        return (flags & CRITICAL) != 0;
    }

    /** The tag lower-cased: tags compare case-insensitively. */
    public String normalizedTag() {
        return tag.toLowerCase(Locale.ROOT);
    }

    /** Zone-file presentation form, e.g. {@code 0 issue "letsencrypt.org"}. */
    public String presentation() {
        StringBuilder sb =
                new StringBuilder().append(flags).append(' ').append(tag).append(" \"");
        for (char c : value.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                sb.append(String.format(Locale.ROOT, "\\%03d", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    /** Reads {@link #presentation()} back (as stored in the history). */
    public static CaaProperty parsePresentation(String text) {
        int sp1 = text.indexOf(' ');
        int sp2 = sp1 < 0 ? -1 : text.indexOf(' ', sp1 + 1);
        if (sp2 < 0 || text.length() < sp2 + 3 || text.charAt(sp2 + 1) != '"' || !text.endsWith("\"")) {
            throw new IllegalArgumentException("not a CAA presentation form: " + text);
        }
        int flags = Integer.parseInt(text.substring(0, sp1));
        String tag = text.substring(sp1 + 1, sp2);
        String quoted = text.substring(sp2 + 2, text.length() - 1);
        StringBuilder value = new StringBuilder();
        for (int i = 0; i < quoted.length(); i++) {
            char c = quoted.charAt(i);
            if (c != '\\') {
                value.append(c);
            } else if (i + 3 < quoted.length() && Character.isDigit(quoted.charAt(i + 1))) {
                value.append((char) Integer.parseInt(quoted.substring(i + 1, i + 4)));
                i += 3;
            } else {
                value.append(quoted.charAt(++i));
            }
        }
        return new CaaProperty(flags, tag, value.toString());
    }
}
