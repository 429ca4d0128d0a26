package dev.ctwatch.notifier.routing;

import dev.ctwatch.notifier.NotifierConfig;
import dev.ctwatch.notifier.delivery.Planner;
import dev.ctwatch.notifier.digest.FloodGuard;
import dev.ctwatch.notifier.render.MailRenderer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * The routing table and the planner, built at start-up: a bad route stops the service with a
 * message naming the key.
 */
@Startup
@ApplicationScoped
public class Routing {
    private static final Logger LOG = Logger.getLogger(Routing.class);

    private final Router router;
    private final Planner planner;

    Routing(NotifierConfig config) {
        this.router = RouteTable.from(config);
        this.planner = new Planner(
                router,
                new MailRenderer(config.mail().subjectPrefix()),
                config.backfill().digest(),
                new FloodGuard());
        router.all().forEach(route -> LOG.infof("%s", route)); // Route.toString() leaves URLs and secrets out
    }

    public Router router() {
        return router;
    }

    public Planner planner() {
        return planner;
    }
}
