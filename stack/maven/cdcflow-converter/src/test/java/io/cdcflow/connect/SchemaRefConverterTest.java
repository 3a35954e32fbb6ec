package io.cdcflow.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

class SchemaRefConverterTest {

    /** The store of one JVM's topic, in memory. */
    static final class MemoryStore implements SchemaStore {
        final Map<Long, byte[]> schemas = new HashMap<>();
        int registrations;

        @Override
        public void register(long id, byte[] schemaJson) {
            registrations++;
            schemas.put(id, schemaJson);
        }

        @Override
        public byte[] lookup(long id) {
            byte[] json = schemas.get(id);
            if (json == null) {
                throw new DataException("schema " + id + " unknown");
            }
            return json;
        }
    }

    static final Schema ROW = SchemaBuilder.struct().name("shop.orders.Value").optional()
            .field("id", Schema.INT32_SCHEMA)
            .field("big", Schema.OPTIONAL_INT64_SCHEMA)
            .field("small", Schema.OPTIONAL_INT16_SCHEMA)
            .field("note", SchemaBuilder.string().optional().defaultValue("n/a").build())
            .field("active", Schema.OPTIONAL_BOOLEAN_SCHEMA)
            .field("ratio", Schema.OPTIONAL_FLOAT64_SCHEMA)
            .field("payload", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("price", Decimal.builder(2).optional().build())
            .field("day", Date.builder().optional().build())
            .field("at", Timestamp.builder().optional().build())
            .field("micros", SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").optional().build())
            .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
            .field("attrs", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_STRING_SCHEMA).optional().build())
            .field("pairs", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).optional().build())
            .build();
    static final Schema ENVELOPE = SchemaBuilder.struct().name("shop.orders.Envelope")
            .field("before", ROW).field("after", ROW).field("op", Schema.STRING_SCHEMA).build();

    static SchemaRefConverter converter(SchemaStore store) {
        SchemaRefConverter converter = new SchemaRefConverter(store);
        converter.configure(Map.of(), false);
        return converter;
    }

    static Struct row() {
        return new Struct(ROW).put("id", 7).put("big", 1L << 40).put("small", (short) -3).put("note", null)
                .put("active", true).put("ratio", Double.NaN).put("payload", new byte[] {0, 1, (byte) 255})
                .put("price", new BigDecimal("12.30")).put("day", new java.util.Date(86_400_000L * 3))
                .put("at", new java.util.Date(1_700_000_000_123L)).put("micros", 1_700_000_000_123_456L)
                .put("tags", List.of("a", "b")).put("attrs", Map.of("k", "v"))
                .put("pairs", Map.of(1, "one"));
    }

    @Test
    void roundTripKeepsEveryValueAndTheSchema() {
        MemoryStore store = new MemoryStore();
        Struct event = new Struct(ENVELOPE).put("before", null).put("after", row()).put("op", "c");
        byte[] wire = converter(store).fromConnectData("t", ENVELOPE, event);

        SchemaAndValue read = converter(store).toConnectData("t", wire);  // another instance: resolves through the store
        assertEquals(ENVELOPE, read.schema());
        Struct after = ((Struct) read.value()).getStruct("after");
        assertEquals(7, after.getInt32("id"));
        assertEquals(1L << 40, after.getInt64("big"));
        assertEquals((short) -3, after.getInt16("small"));
        assertNull(after.getWithoutDefault("note"), "a NULL stays NULL even where the column has a default");
        assertTrue(Double.isNaN(after.getFloat64("ratio")));
        assertArrayEquals(new byte[] {0, 1, (byte) 255}, after.getBytes("payload"));
        assertEquals(new BigDecimal("12.30"), after.get("price"));
        assertEquals(new java.util.Date(86_400_000L * 3), after.get("day"));
        assertEquals(new java.util.Date(1_700_000_000_123L), after.get("at"));
        assertEquals(1_700_000_000_123_456L, after.getInt64("micros"));
        assertEquals(List.of("a", "b"), after.getArray("tags"));
        assertEquals(Map.of("k", "v"), after.getMap("attrs"));
        assertEquals(Map.of(1, "one"), after.getMap("pairs"));
        assertNull(((Struct) read.value()).get("before"));
    }

    @Test
    void theRecordIsTheHeaderAndThePlainPayload() {
        MemoryStore store = new MemoryStore();
        Struct event = new Struct(ENVELOPE).put("after", row()).put("op", "u");
        byte[] wire = converter(store).fromConnectData("t", ENVELOPE, event);
        assertEquals(SchemaRefConverter.MAGIC, wire[0]);
        String payload = new String(wire, SchemaRefConverter.HEADER_BYTES, wire.length - SchemaRefConverter.HEADER_BYTES,
                StandardCharsets.UTF_8);
        assertTrue(payload.startsWith("{\"before\":null,\"after\":{\"id\":7,"), payload);
        assertTrue(payload.contains("\"note\":null"), payload);
        assertTrue(!payload.contains("\"schema\""), "no inline schema");
        assertEquals(1, store.schemas.size());
    }

    @Test
    void aSchemaIsRegisteredOncePerConverterAndResolvedToOneObject() {
        MemoryStore store = new MemoryStore();
        SchemaRefConverter writer = converter(store);
        SchemaRefConverter reader = converter(store);
        Schema first = null;
        for (int i = 0; i < 100; i++) {
            byte[] wire = writer.fromConnectData("t", ENVELOPE, new Struct(ENVELOPE).put("after", row()).put("op", "c"));
            Schema read = reader.toConnectData("t", wire).schema();
            if (first == null) {
                first = read;
            }
            assertSame(first, read);
        }
        assertEquals(1, store.registrations);
    }

    @Test
    void recordsWrittenByJsonConverterAreStillRead() {
        JsonConverter json = new JsonConverter();
        json.configure(Map.of("schemas.enable", "true"), false);
        byte[] legacy = json.fromConnectData("t", ENVELOPE, new Struct(ENVELOPE).put("after", row()).put("op", "d"));
        SchemaAndValue read = converter(new MemoryStore()).toConnectData("t", legacy);
        assertEquals("d", ((Struct) read.value()).getString("op"));
        assertEquals(7, ((Struct) read.value()).getStruct("after").getInt32("id"));
    }

    @Test
    void tombstonesAndUnknownSchemas() {
        SchemaRefConverter converter = converter(new MemoryStore());
        assertNull(converter.fromConnectData("t", null, null));
        assertEquals(SchemaAndValue.NULL, converter.toConnectData("t", null));
        byte[] unknown = {0, 1, 2, 3, 4, 5, 6, 7, 8, '{', '}'};
        assertThrows(DataException.class, () -> converter.toConnectData("t", unknown));
        assertThrows(DataException.class, () -> converter.toConnectData("t", new byte[] {0, 1}));
    }

    @Test
    void keysAreConvertedLikeValues() {
        Schema key = SchemaBuilder.struct().name("shop.orders.Key").field("id", Schema.INT32_SCHEMA).build();
        MemoryStore store = new MemoryStore();
        SchemaRefConverter writer = new SchemaRefConverter(store);
        writer.configure(Map.of(), true);
        byte[] wire = writer.fromConnectData("t", key, new Struct(key).put("id", 42));
        assertEquals("{\"id\":42}", new String(wire, 9, wire.length - 9, StandardCharsets.UTF_8));
        SchemaRefConverter reader = new SchemaRefConverter(store);
        reader.configure(Map.of(), true);
        assertEquals(42, ((Struct) reader.toConnectData("t", wire).value()).getInt32("id"));
    }
}
