package dev.ctwatch.caa;

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
}
