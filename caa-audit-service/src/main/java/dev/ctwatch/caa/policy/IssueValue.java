package dev.ctwatch.caa.policy;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A parsed {@code issue} / {@code issuewild} value (RFC 8659 §4.2). A value that does not match the
 * grammar is kept as {@code valid = false}: it names no issuer, so it authorises nobody (it must
 * not be dropped, which would turn "nobody" into "no restriction").
 *
 * @param issuer the issuer domain name lower-cased, or null (e.g. {@code ";"})
 * @param parameters parameter tags lower-cased, in order; a repeated tag keeps its first value
 * @param repeated parameter tags (lower-cased) that occur more than once
 */
public record IssueValue(boolean valid, String issuer, Map<String, String> parameters, Set<String> repeated) {
    private static final String LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
    public static final Pattern DOMAIN = Pattern.compile(LABEL + "(?:\\." + LABEL + ")*");
    private static final Pattern PARAM_TAG = Pattern.compile("[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*");
    // printable ASCII except space and ';'
    private static final Pattern PARAM_VALUE = Pattern.compile("[\\x21-\\x3a\\x3c-\\x7e]*");
    public static final Pattern METHOD_LABEL = Pattern.compile("[a-z0-9]+(?:-[a-z0-9]+)*");
    /** ACME challenge types (IANA registry); CA-specific labels start with {@code ca-}. */
    static final Set<String> ACME_METHODS =
            Set.of("http-01", "dns-01", "tls-alpn-01", "tls-sni-01", "tls-sni-02", "dns-account-01", "dns-persist-01");

    /** What a property's RFC 8657 parameters say about one issuance. */
    public enum Acceptance {
        ACCEPTS,
        /** Only if the account or method, which the caller does not know, is the right one. */
        DEPENDS,
        /** No issuance satisfies it (or this one does not). */
        REJECTS
    }

    public static IssueValue parse(String value) {
        int semicolon = value.indexOf(';');
        String domain = trim(semicolon < 0 ? value : value.substring(0, semicolon));
        if (!domain.isEmpty() && !DOMAIN.matcher(domain).matches()) {
            return invalid();
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        Set<String> repeated = new HashSet<>();
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
                    String key = tag.toLowerCase(Locale.ROOT);
                    if (parameters.putIfAbsent(key, v) != null) {
                        repeated.add(key);
                    }
                }
            }
        }
        return new IssueValue(
                true, domain.isEmpty() ? null : domain.toLowerCase(Locale.ROOT), parameters, Set.copyOf(repeated));
    }

    /**
     * Whether the RFC 8657 parameters accept an issuance in this context. A repeated or invalid
     * {@code accounturi} / {@code validationmethods}, or a method list with no usable label, accepts
     * nothing; other parameters are ignored.
     */
    public Acceptance accepts(IssuanceContext context) {
        boolean depends = false;
        String account = parameters.get("accounturi");
        if (account != null) {
            if (repeated.contains("accounturi") || !isUri(account)) {
                return Acceptance.REJECTS;
            }
            if (context.accountUri() == null) {
                depends = true;
            } else if (!account.equals(context.accountUri())) {
                return Acceptance.REJECTS;
            }
        }
        String methods = parameters.get("validationmethods");
        if (methods != null) {
            Set<String> usable = usableMethods(methods);
            if (repeated.contains("validationmethods") || usable.isEmpty()) {
                return Acceptance.REJECTS;
            }
            if (context.validationMethod() == null) {
                depends = true;
            } else if (!usable.contains(context.validationMethod())) {
                return Acceptance.REJECTS;
            }
        }
        return depends ? Acceptance.DEPENDS : Acceptance.ACCEPTS;
    }

    /** Labels of a {@code validationmethods} list that name a method: ACME names or {@code ca-...}. */
    static Set<String> usableMethods(String list) {
        Set<String> usable = new LinkedHashSet<>();
        for (String label : list.split(",", -1)) {
            String l = label.toLowerCase(Locale.ROOT);
            if (METHOD_LABEL.matcher(l).matches() && (ACME_METHODS.contains(l) || l.startsWith("ca-"))) {
                usable.add(l);
            }
        }
        return usable;
    }

    private static boolean isUri(String value) {
        try {
            URI uri = new URI(value);
            return uri.getScheme() != null && !value.isEmpty();
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static IssueValue invalid() {
        return new IssueValue(false, null, Map.of(), Set.of());
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
