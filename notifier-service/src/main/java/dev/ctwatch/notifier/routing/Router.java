package dev.ctwatch.notifier.routing;

import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.WatchMatch;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The routing decision: every named route that takes the notification's kind and severity and
 * selects one of its watch entries gets it; when none does, the default route gets it.
 */
public final class Router {
    private final List<Route> routes;
    private final Route fallback;

    public Router(List<Route> routes, Route fallback) {
        this.routes = List.copyOf(routes);
        this.fallback = fallback;
    }

    /** A route chosen for a notification, with the watch entry its digests are grouped by. */
    public record Routed(Route route, String watchEntry) {}

    public List<Routed> route(CertificateAudited audited) {
        Classification classification = Classification.of(audited);
        List<WatchMatch> entries = audited.certificate().matches().stream()
                .sorted(Comparator.comparing(WatchMatch::domain, Comparator.nullsFirst(Comparator.naturalOrder())))
                .toList();
        List<Routed> out = new ArrayList<>();
        for (Route route : routes) {
            if (!route.takes(classification)) {
                continue;
            }
            Optional<WatchMatch> entry = entries.stream().filter(route::selects).findFirst();
            if (entry.isPresent()) {
                out.add(new Routed(route, String.valueOf(entry.get().domain())));
            } else if (route.labels().isEmpty()) {
                out.add(new Routed(route, "")); // no watch entry on the event: still any-entry routes
            }
        }
        if (out.isEmpty()) {
            out.add(new Routed(
                    fallback,
                    entries.isEmpty() ? "" : String.valueOf(entries.get(0).domain())));
        }
        return out;
    }

    /** The default route: what no named route takes. */
    public Route fallback() {
        return fallback;
    }

    public List<Route> routes() {
        return routes;
    }

    /** Every route, the default last. */
    public List<Route> all() {
        List<Route> all = new ArrayList<>(routes);
        all.add(fallback);
        return all;
    }

    public Optional<Route> find(String name) {
        return all().stream().filter(r -> r.name().equals(name)).findFirst();
    }
}
