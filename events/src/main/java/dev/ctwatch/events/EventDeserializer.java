package dev.ctwatch.events;

import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka value deserializer of one payload type. A record that is not valid JSON for the type fails
 * with a {@link SerializationException}, which the consumers send to their dead-letter topic.
 */
public class EventDeserializer<T> implements Deserializer<T> {
    private final Class<T> type;

    protected EventDeserializer(Class<T> type) {
        this.type = type;
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            return EventJson.mapper().readValue(data, type);
        } catch (IOException e) {
            throw new SerializationException(
                    "record on " + topic + " is not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    public static class Observed extends EventDeserializer<CertificateObserved> {
        public Observed() {
            super(CertificateObserved.class);
        }
    }

    public static class Discovered extends EventDeserializer<CertificateDiscovered> {
        public Discovered() {
            super(CertificateDiscovered.class);
        }
    }

    public static class Audited extends EventDeserializer<CertificateAudited> {
        public Audited() {
            super(CertificateAudited.class);
        }
    }
}
