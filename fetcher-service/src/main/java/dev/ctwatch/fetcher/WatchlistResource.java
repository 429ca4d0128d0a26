package dev.ctwatch.fetcher;

import dev.ctwatch.fetcher.watchlist.WatchEntry;
import jakarta.inject.Inject;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The watchlist with each entry's last poll, and polling one entry on demand. */
@Path("/api/watchlist")
@Produces(MediaType.APPLICATION_JSON)
public class WatchlistResource {

    /**
     * @param nextPollAt when crt.sh is asked next for this entry
     * @param nextIsRetry whether that is a retry of a failed poll
     * @param shard the replica (shard index) that polls this entry
     * @param polledHere whether this replica polls it; the others' polls show on their replicas
     */
    public record EntryView(
            String domain,
            boolean includeSubdomains,
            Map<String, String> labels,
            PollLog.Poll lastPoll,
            Instant lastSuccessAt,
            Instant nextPollAt,
            boolean nextIsRetry,
            String advice,
            int shard,
            boolean polledHere) {}

    @Inject
    Poller poller;

    @GET
    public List<EntryView> list() {
        Map<String, PollLog.Poll> polls = poller.lastPolls();
        return poller.watchlist().entries().stream()
                .map(e -> view(e, polls.get(e.domain()), poller))
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
        if (!poller.pollsHere(entry)) {
            throw new ClientErrorException(Response.status(Response.Status.CONFLICT)
                    .type(MediaType.TEXT_PLAIN)
                    .entity(domain + " is polled by shard "
                            + poller.shard().owner(entry.domain()) + ", not by this replica (shard "
                            + poller.shard().index() + ")")
                    .build());
        }
        return view(entry, poller.poll(entry), poller);
    }

    private static EntryView view(WatchEntry entry, PollLog.Poll poll, Poller poller) {
        String advice = poll != null && poll.truncated()
                ? "crt.sh truncated the answer at 10,000 identity rows: split this entry into narrower ones"
                : null;
        PollSchedule.Slot slot = poller.slot(entry.domain());
        return new EntryView(
                entry.domain(),
                entry.includeSubdomains(),
                entry.labels(),
                poll,
                poller.lastSuccess(entry.domain()),
                slot == null ? null : slot.nextAt(),
                slot != null && slot.retry() > 0,
                advice,
                poller.shard().owner(entry.domain()),
                poller.pollsHere(entry));
    }
}
