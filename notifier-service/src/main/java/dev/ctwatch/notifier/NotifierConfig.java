package dev.ctwatch.notifier;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;

/** Configuration of the notifier, under {@code notifier.*}. */
@ConfigMapping(prefix = "notifier")
public interface NotifierConfig {

    /** The mail channel. */
    Mail mail();

    interface Mail {
        /**
         * Recipients of every notification ({@code notifier.mail.to}, comma-separated). Required: the
         * service does not start without it.
         */
        List<String> to();

        /** Sender address ({@code notifier.mail.from}). */
        @WithDefault("ctwatch@localhost")
        String from();

        /** Put before every subject ({@code notifier.mail.subject-prefix}), so filters can match it. */
        @WithDefault("[ctwatch]")
        String subjectPrefix();

        /**
         * Longest wait for the SMTP server to accept one mail ({@code notifier.mail.send-timeout});
         * shorter than the transaction timeout, so a hung server fails the attempt, not the transaction.
         */
        @WithDefault("30s")
        Duration sendTimeout();
    }
}
