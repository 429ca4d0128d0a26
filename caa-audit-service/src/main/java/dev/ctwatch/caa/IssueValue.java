package dev.ctwatch.caa;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A parsed {@code issue} / {@code issuewild} value (RFC 8659 §4.2). A value that does not match the
 * grammar is kept as {@code valid = false}: it names no issuer, so it authorises nobody (it must
 * not be dropped, which would turn "nobody" into "no restriction").
 *
 * @param issuer the issuer domain name lower-cased, or null (e.g. {@code ";"})
 * @param parameters parameter tags lower-cased, in order; a repeated tag keeps its first value
 */
public record IssueValue(boolean valid, String issuer, Map<String, String> parameters, int parameterCount) {
    private static final String LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
    private static final Pattern DOMAIN = Pattern.compile(LABEL + "(?:\\." + LABEL + ")*");
    private static final Pattern PARAM_TAG = Pattern.compile("[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*");
    // printable ASCII except space and ';'
    private static final Pattern PARAM_VALUE = Pattern.compile("[\\x21-\\x3a\\x3c-\\x7e]*");

    public static IssueValue parse(String value) {
        int semicolon = value.indexOf(';');
        String domain = trim(semicolon < 0 ? value : value.substring(0, semicolon));
        if (!domain.isEmpty() && !DOMAIN.matcher(domain).matches()) {
            return invalid();
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        int count = 0;
        if (semicolon >= 0) {
            String rest = trim(value.substring(semicolon + 1));
            if (!rest.isEmpty()) {
                for (String parameter : rest.split(";", -1)) {
                    String p = trim(parameter);
                    if (p.isEmpty()) {
                        // a trailing ';' is outside the grammar; implementations accept it, so do we
                        continue;
                    }
                    int eq = p.indexOf('=');
                    if (eq < 0) {
                        return invalid();
                    }
                    String tag = trim(p.substring(0, eq));
                    String v = trim(p.substring(eq + 1));
                    if (!PARAM_TAG.matcher(tag).matches()
                            || !PARAM_VALUE.matcher(v).matches()) {
                        return invalid();
                    }
                    parameters.putIfAbsent(tag.toLowerCase(Locale.ROOT), v);
                    count++;
                }
            }
        }
        return new IssueValue(true, domain.isEmpty() ? null : domain.toLowerCase(Locale.ROOT), parameters, count);
    }

    /**
     * Whether the property restricts the CA account or validation method (RFC 8657), which a logged
     * certificate does not reveal.
     */
    public boolean restrictsAccountOrMethod() {
        return parameters.containsKey("accounturi") || parameters.containsKey("validationmethods");
    }

    private static IssueValue invalid() {
        return new IssueValue(false, null, Map.of(), 0);
    }

    private static String trim(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
            start++;
        }
        while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
            end--;
        }
        return s.substring(start, end);
    }
}
