package dev.ctwatch.fetcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;

class PublishWindowTest {
    private final AtomicInteger acked = new AtomicInteger();

    @Test
    void aPollIsDoneWhenEveryRecordWasAcknowledged() throws Exception {
        PublishWindow window = new PublishWindow(2, Duration.ofMillis(200));
        window.acquire();
        var first = window.completion(acked::incrementAndGet);
        window.acquire();
        var second = window.completion(acked::incrementAndGet);
        first.onCompletion(null, null);
        // one record still unacknowledged: the poll is not done
        assertThatThrownBy(window::awaitAll).isInstanceOf(TimeoutException.class);
        second.onCompletion(null, null);
        assertThat(window.awaitAll()).isEqualTo(2);
        assertThat(acked).hasValue(2);
    }

    @Test
    void aFullWindowMakesThePollWaitAndThenGiveUp() throws Exception {
        PublishWindow window = new PublishWindow(1, Duration.ofMillis(100));
        window.acquire();
        assertThatThrownBy(window::acquire).isInstanceOf(TimeoutException.class);
        window.completion(acked::incrementAndGet).onCompletion(null, null);
        window.acquire();
        window.abandon(); // never handed to the producer
        assertThat(window.awaitAll()).isEqualTo(1);
    }

    @Test
    void aRefusedRecordFailsThePollAndIsNotRemembered() throws Exception {
        PublishWindow window = new PublishWindow(4, Duration.ofMillis(200));
        window.acquire();
        window.completion(acked::incrementAndGet).onCompletion(null, null);
        window.acquire();
        window.completion(acked::incrementAndGet).onCompletion(null, new RecordTooLargeException("too large"));
        assertThatThrownBy(window::awaitAll)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("too large");
        // only the acknowledged record counts as published; the refused one is published again next poll
        assertThat(acked).hasValue(1);
    }
}
