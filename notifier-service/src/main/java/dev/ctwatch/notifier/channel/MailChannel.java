package dev.ctwatch.notifier.channel;

import dev.ctwatch.notifier.NotifierConfig;
import dev.ctwatch.notifier.render.Outbound;
import io.quarkus.mailer.Mail;
import io.quarkus.mailer.Mailer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends one rendered mail (text and HTML) to one recipient over SMTP. STARTTLS and login come from
 * the Quarkus mailer configuration ({@code QUARKUS_MAILER_START_TLS}, {@code _LOGIN},
 * {@code _USERNAME}, {@code _PASSWORD} from the environment).
 */
@ApplicationScoped
public class MailChannel {
    private final Mailer mailer;
    private final NotifierConfig config;
    private final ExecutorService smtp = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "notifier-smtp");
        thread.setDaemon(true);
        return thread;
    });

    MailChannel(Mailer mailer, NotifierConfig config) {
        this.mailer = mailer;
        this.config = config;
    }

    /** Every SMTP failure is worth a retry: the relay may be down, busy or greylisting. */
    public SendResult send(String recipient, Outbound message) {
        Mail mail = Mail.withText(recipient, message.subject(), message.text())
                .setHtml(message.html())
                .setFrom(config.mail().from());
        try {
            send(mail);
            return SendResult.sent();
        } catch (RuntimeException e) {
            return SendResult.retry("SMTP: " + e, null);
        }
    }

    /**
     * Waits for the mail on a thread of our own: blocking on the Vert.x mail client from a Vert.x
     * context (messaging worker, scheduler) deadlocks, its SMTP callbacks queue behind the waiting task.
     */
    private void send(Mail mail) {
        Future<?> sending = smtp.submit(() -> mailer.send(mail));
        try {
            sending.get(config.mail().sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            sending.cancel(true);
            throw new IllegalStateException("SMTP server did not accept the mail within "
                    + config.mail().sendTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending", e);
        }
    }

    @PreDestroy
    void stop() {
        smtp.shutdownNow();
    }
}
