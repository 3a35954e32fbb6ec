package io.cdcflow.connect;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.storage.Converter;

/**
 * A change record as JSON that names its schema instead of carrying it.
 *
 * <p>Kafka's JsonConverter with {@code schemas.enable=true} writes the whole schema beside every record's data: for a
 * Debezium change event of six plain columns that is 3.4 KB, of which ~90% is the schema, built by the source, carried
 * and stored by Kafka, then parsed and compared by every consumer, per record. This converter writes
 *
 * <pre>  0x00 | schema id (8 bytes, big-endian) | the payload as JsonConverter writes it without an envelope</pre>
 *
 * and keeps each schema once, under its id, in a compacted topic ({@link KafkaSchemaStore}). The id is the first 8
 * bytes of the SHA-256 of the schema's JSON, so every worker derives the same id for the same schema and registering
 * it again is harmless. A reader resolves an id once and then keeps the Schema object: a sink sees the same object for
 * every record of a table, so its per-record schema comparisons stop at identity.
 *
 * <p>JSON never starts with a 0x00 byte: records written before this converter (a JSON envelope) are still read.
 *
 * <p>Settings (as {@code key.converter.*} / {@code value.converter.*}): {@code bootstrap.servers} (required),
 * {@code schema.topic} (default {@code _cdcflow_schemas}), and JsonConverter's own {@code decimal.format} and
 * {@code replace.null.with.default} (default false here: a NULL stays NULL when the column has a default).
 */
public final class SchemaRefConverter implements Converter {

    public static final byte MAGIC = 0;
    public static final int HEADER_BYTES = 9;
    public static final String SCHEMA_TOPIC_CONFIG = "schema.topic";
    public static final String SCHEMA_TOPIC_DEFAULT = "_cdcflow_schemas";
    public static final String BOOTSTRAP_CONFIG = "bootstrap.servers";
    private static final int MAX_CACHED_SCHEMAS = 10_000;

    private final JsonConverter payloads = new JsonConverter();
    private final JsonConverter envelopes = new JsonConverter();
    private final ObjectMapper mapper = new ObjectMapper();
    // Writer side: the header of each schema met so far, by identity (a connector reuses its Schema objects).
    private final Map<Schema, byte[]> headers = Collections.synchronizedMap(new IdentityHashMap<>());
    // Reader side: each resolved schema, by id.
    private final Map<Long, Schema> schemas = new ConcurrentHashMap<>();
    private SchemaStore store;
    private boolean replaceNullWithDefault;

    public SchemaRefConverter() {
    }

    /** For tests: a store of the caller's choosing. */
    SchemaRefConverter(SchemaStore store) {
        this.store = store;
    }

    @Override
    public ConfigDef config() {
        return new ConfigDef()
                .define(BOOTSTRAP_CONFIG, ConfigDef.Type.STRING, ConfigDef.Importance.HIGH,
                        "Kafka bootstrap servers of the cluster that holds the schema topic")
                .define(SCHEMA_TOPIC_CONFIG, ConfigDef.Type.STRING, SCHEMA_TOPIC_DEFAULT, ConfigDef.Importance.MEDIUM,
                        "Compacted topic the schemas are kept in, by id");
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        Map<String, Object> json = new HashMap<>(configs);
        json.putIfAbsent("replace.null.with.default", "false");
        replaceNullWithDefault = Boolean.parseBoolean(String.valueOf(json.get("replace.null.with.default")));
        json.put("schemas.enable", "false");
        payloads.configure(json, isKey);
        json.put("schemas.enable", "true");
        envelopes.configure(json, isKey);
        if (store == null) {
            Object bootstrap = configs.get(BOOTSTRAP_CONFIG);
            if (bootstrap == null || String.valueOf(bootstrap).isBlank()) {
                throw new DataException(getClass().getSimpleName() + " needs " + BOOTSTRAP_CONFIG);
            }
            Object topic = configs.get(SCHEMA_TOPIC_CONFIG);
            store = KafkaSchemaStore.shared(String.valueOf(bootstrap),
                    topic == null ? SCHEMA_TOPIC_DEFAULT : String.valueOf(topic));
        }
    }

    @Override
    public byte[] fromConnectData(String topic, Schema schema, Object value) {
        if (schema == null) {
            return payloads.fromConnectData(topic, null, value);  // schemaless (never from Debezium): plain JSON
        }
        byte[] header = headers.get(schema);
        if (header == null) {
            header = register(schema);
        }
        byte[] body = payloads.fromConnectData(topic, schema, value);
        if (body == null) {
            return null;
        }
        byte[] record = new byte[HEADER_BYTES + body.length];
        System.arraycopy(header, 0, record, 0, HEADER_BYTES);
        System.arraycopy(body, 0, record, HEADER_BYTES, body.length);
        return record;
    }

    @Override
    public SchemaAndValue toConnectData(String topic, byte[] value) {
        if (value == null) {
            return SchemaAndValue.NULL;
        }
        if (value.length == 0 || value[0] != MAGIC) {
            return legacy(topic, value);
        }
        if (value.length < HEADER_BYTES) {
            throw new DataException("record of " + value.length + " bytes is shorter than its schema reference");
        }
        long id = ByteBuffer.wrap(value, 1, 8).getLong();
        Schema schema = schemas.get(id);
        if (schema == null) {
            schema = resolve(id);
        }
        JsonNode payload;
        try {
            payload = mapper.readTree(value, HEADER_BYTES, value.length - HEADER_BYTES);
        } catch (IOException e) {
            throw new DataException("record payload is not JSON", e);
        }
        return new SchemaAndValue(schema, JsonValues.toConnect(schema, payload, replaceNullWithDefault));
    }

    /** A record without a schema reference: a JSON envelope (written by JsonConverter) or schemaless JSON. */
    private SchemaAndValue legacy(String topic, byte[] value) {
        JsonNode doc;
        try {
            doc = mapper.readTree(value);
        } catch (IOException e) {
            throw new DataException("record is neither a schema reference nor JSON", e);
        }
        boolean envelope = doc != null && doc.isObject() && doc.size() == 2 && doc.has("schema") && doc.has("payload");
        return (envelope ? envelopes : payloads).toConnectData(topic, value);
    }

    private byte[] register(Schema schema) {
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(envelopes.asJsonSchema(schema));
        } catch (IOException e) {
            throw new DataException("schema cannot be written as JSON", e);
        }
        long id = schemaId(json);
        store.register(id, json);
        schemas.putIfAbsent(id, schema);
        byte[] header = ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putLong(id).array();
        if (headers.size() >= MAX_CACHED_SCHEMAS) {
            headers.clear();
        }
        headers.put(schema, header);
        return header;
    }

    private Schema resolve(long id) {
        byte[] json = store.lookup(id);
        Schema schema;
        try {
            schema = envelopes.asConnectSchema(mapper.readTree(json));
        } catch (IOException e) {
            throw new DataException("schema " + KafkaSchemaStore.key(id) + " is not valid JSON", e);
        }
        if (schemas.size() >= MAX_CACHED_SCHEMAS) {
            schemas.clear();
        }
        Schema known = schemas.putIfAbsent(id, schema);
        return known == null ? schema : known;
    }

    static long schemaId(byte[] schemaJson) {
        try {
            return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(schemaJson), 0, 8).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        payloads.close();
        envelopes.close();
    }

}
