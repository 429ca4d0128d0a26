package dev.ctwatch.events;

/** Topic names of the public Kafka API. A breaking change gets a new {@code .v2} topic. */
public final class Topics {
    public static final String CERTIFICATES_OBSERVED = "ctwatch.certificates.observed.v1";
    public static final String CERTIFICATES_DISCOVERED = "ctwatch.certificates.discovered.v1";
    public static final String CERTIFICATES_AUDITED = "ctwatch.certificates.audited.v1";

    /** Partition count of the three topics; the ceiling of each consumer group's parallelism. */
    public static final int PARTITIONS = 12;

    private Topics() {}

    /** The dead-letter topic of a consumed topic. */
    public static String deadLetter(String topic) {
        return topic + ".dlq";
    }
}
