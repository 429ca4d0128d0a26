package dev.ctwatch.notifier;

import dev.ctwatch.notifier.MailRenderer.RenderedMail;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.mailer.Mail;
import io.quarkus.mailer.Mailer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Sends one rendered mail to one recipient, at most once per issuance, through the delivery log. */
@ApplicationScoped
public class MailChannel {
    public static final String CHANNEL = "mail";

    private final DeliveryLog log;
    private final Mailer mailer;
    private final NotifierConfig config;
    private final Timer sendTimer;
    private final ExecutorService smtp = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "notifier-smtp");
        thread.setDaemon(true);
        return thread;
    });

    MailChannel(DeliveryLog log, Mailer mailer, NotifierConfig config, MeterRegistry registry) {
        this.log = log;
        this.mailer = mailer;
        this.config = config;
        this.sendTimer = Timer.builder("ctwatch.notify.send")
                .description("Time to hand one notification to the channel")
                .tag("channel", CHANNEL)
                .register(registry);
    }

    /**
     * Claims and sends in one transaction: true when sent now, false when it had been delivered
     * already. A failed send throws and rolls the claim back, so the next attempt sends it.
     */
    @Transactional(rollbackOn = Exception.class)
    public boolean deliver(String issuanceKey, String recipient, RenderedMail rendered) {
        if (!log.claim(issuanceKey, CHANNEL, recipient)) {
            return false;
        }
        Mail mail = Mail.withText(recipient, rendered.subject(), rendered.text())
                .setHtml(rendered.html())
                .setFrom(config.mail().from());
        // Blocking send inside the transaction: commit only after the SMTP server accepted the mail.
        sendTimer.record(() -> send(mail));
        return true;
    }

    /**
     * Waits for the mail on a thread of our own: blocking on the Vert.x mail client from the
     * messaging worker (a Vert.x context) deadlocks, its SMTP callbacks queue behind the waiting task.
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
