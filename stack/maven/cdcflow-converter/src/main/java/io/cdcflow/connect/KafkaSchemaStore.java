package io.cdcflow.connect;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.errors.DataException;

/**
 * Schemas in a compacted Kafka topic: key = the id as 16 hex digits, value = the schema's JSON (Kafka Connect's JSON
 * schema form). One store per worker JVM and topic, shared by every converter instance: a producer while something
 * registers, and a short-lived consumer that reads the topic to its end when an unknown id shows up.
 */
final class KafkaSchemaStore implements SchemaStore {

    private static final Map<String, KafkaSchemaStore> SHARED = new HashMap<>();
    private static final Duration LOOKUP_DEADLINE = Duration.ofSeconds(60);

    private final String bootstrap;
    private final String topic;
    private final Map<Long, byte[]> known = new ConcurrentHashMap<>();
    private final Set<Long> written = ConcurrentHashMap.newKeySet();
    private KafkaProducer<byte[], byte[]> producer;
    private boolean topicReady;

    private KafkaSchemaStore(String bootstrap, String topic) {
        this.bootstrap = bootstrap;
        this.topic = topic;
    }

    static synchronized KafkaSchemaStore shared(String bootstrap, String topic) {
        return SHARED.computeIfAbsent(bootstrap + "|" + topic, k -> new KafkaSchemaStore(bootstrap, topic));
    }

    static String key(long id) {
        return String.format("%016x", id);
    }

    @Override
    public void register(long id, byte[] schemaJson) {
        if (written.contains(id)) {
            return;
        }
        synchronized (this) {
            if (written.contains(id)) {
                return;
            }
            ensureTopic();
            try {
                producer().send(new ProducerRecord<>(topic, key(id).getBytes(StandardCharsets.UTF_8), schemaJson))
                        .get(LOOKUP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DataException("interrupted while registering schema " + key(id), e);
            } catch (Exception e) {
                throw new DataException("could not register schema " + key(id) + " in topic " + topic, e);
            }
            known.put(id, schemaJson);
            written.add(id);
        }
    }

    @Override
    public byte[] lookup(long id) {
        byte[] json = known.get(id);
        if (json != null) {
            return json;
        }
        synchronized (this) {
            long deadline = System.nanoTime() + LOOKUP_DEADLINE.toNanos();
            while (true) {
                readToEnd();
                json = known.get(id);
                if (json != null) {
                    return json;
                }
                if (System.nanoTime() > deadline) {
                    throw new DataException("schema " + key(id) + " is not in topic " + topic);
                }
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DataException("interrupted while looking up schema " + key(id), e);
                }
            }
        }
    }

    private void readToEnd() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("enable.auto.commit", "false");
        props.put("key.deserializer", ByteArrayDeserializer.class.getName());
        props.put("value.deserializer", ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                return;
            }
            List<TopicPartition> partitions = infos.stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.key() != null && record.value() != null) {
                        known.put(Long.parseUnsignedLong(new String(record.key(), StandardCharsets.UTF_8), 16),
                                record.value());
                    }
                }
            }
        }
    }

    private void ensureTopic() {
        if (topicReady) {
            return;
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(props)) {
            NewTopic schemas = new NewTopic(topic, Optional.of(1), Optional.empty())
                    .configs(Map.of("cleanup.policy", "compact"));
            admin.createTopics(List.of(schemas)).all().get(LOOKUP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new DataException("could not create the schema topic " + topic, e.getCause());
            }
        } catch (Exception e) {
            throw new DataException("could not create the schema topic " + topic, e);
        }
        topicReady = true;
    }

    private KafkaProducer<byte[], byte[]> producer() {
        if (producer == null) {
            Properties props = new Properties();
            props.put("bootstrap.servers", bootstrap);
            props.put("acks", "all");
            props.put("key.serializer", ByteArraySerializer.class.getName());
            props.put("value.serializer", ByteArraySerializer.class.getName());
            producer = new KafkaProducer<>(props);
        }
        return producer;
    }
}
