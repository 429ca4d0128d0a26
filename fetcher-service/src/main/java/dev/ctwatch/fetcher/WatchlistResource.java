package dev.ctwatch.fetcher;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Map;

/** The watchlist with each entry's last poll, and polling one entry on demand. */
@Path("/api/watchlist")
@Produces(MediaType.APPLICATION_JSON)
public class WatchlistResource {

    public record EntryView(
            String domain,
            boolean includeSubdomains,
            Map<String, String> labels,
            PollLog.Poll lastPoll,
            String advice) {}

    @Inject
    Poller poller;

    @GET
    public List<EntryView> list() {
        Map<String, PollLog.Poll> polls = poller.lastPolls();
        return poller.watchlist().entries().stream()
                .map(e -> view(e, polls.get(e.domain())))
                .toList();
    }

    @POST
    @Path("/{entry}/poll")
    public EntryView poll(@PathParam("entry") String domain) {
        WatchEntry entry;
        try {
            entry = poller.watchlist().entry(domain).orElseThrow(() -> new NotFoundException("not watched: " + domain));
        } catch (IllegalArgumentException e) {
            throw new NotFoundException(e.getMessage());
        }
        return view(entry, poller.poll(entry));
    }

    private static EntryView view(WatchEntry entry, PollLog.Poll poll) {
        String advice = poll != null && poll.truncated()
                ? "crt.sh truncated the answer at 10,000 identity rows: split this entry into narrower ones"
                : null;
        return new EntryView(entry.domain(), entry.includeSubdomains(), entry.labels(), poll, advice);
    }
}
