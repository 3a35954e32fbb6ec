package io.cdcflow.connect;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/** JSON (as JsonConverter writes a payload) to Kafka Connect data, guided by the schema the record names. */
final class JsonValues {

    private JsonValues() {
    }

    static Object toConnect(Schema schema, JsonNode node, boolean replaceNullWithDefault) {
        if (node == null || node.isNull()) {
            if (replaceNullWithDefault && schema.defaultValue() != null) {
                return schema.defaultValue();
            }
            if (schema.isOptional() || schema.defaultValue() != null) {
                return null;
            }
            throw new DataException("null for a required " + schema.type() + " field");
        }
        String logical = schema.name();
        if (logical != null) {
            switch (logical) {
                case Decimal.LOGICAL_NAME:
                    return decimal(schema, node);
                case Date.LOGICAL_NAME:
                    return Date.toLogical(schema, node.intValue());
                case Time.LOGICAL_NAME:
                    return Time.toLogical(schema, node.intValue());
                case Timestamp.LOGICAL_NAME:
                    return Timestamp.toLogical(schema, node.longValue());
                default:
                    break;
            }
        }
        switch (schema.type()) {
            case BOOLEAN:
                return node.isTextual() ? Boolean.valueOf(node.textValue()) : node.booleanValue();
            case INT8:
                return (byte) node.intValue();
            case INT16:
                return (short) node.intValue();
            case INT32:
                return node.intValue();
            case INT64:
                return node.longValue();
            case FLOAT32:
                return node.isTextual() ? Float.parseFloat(node.textValue()) : node.floatValue();
            case FLOAT64:
                // Jackson writes NaN and the infinities as strings ("NaN", "Infinity").
                return node.isTextual() ? Double.parseDouble(node.textValue()) : node.doubleValue();
            case STRING:
                return node.isTextual() ? node.textValue() : node.toString();
            case BYTES:
                return bytes(node);
            case ARRAY: {
                List<Object> list = new ArrayList<>(node.size());
                for (JsonNode element : node) {
                    list.add(toConnect(schema.valueSchema(), element, replaceNullWithDefault));
                }
                return list;
            }
            case MAP:
                return map(schema, node, replaceNullWithDefault);
            case STRUCT: {
                if (!node.isObject()) {
                    throw new DataException("a struct must be a JSON object, found " + node.getNodeType());
                }
                Struct struct = new Struct(schema);
                for (Field field : schema.fields()) {
                    struct.put(field, toConnect(field.schema(), node.get(field.name()), replaceNullWithDefault));
                }
                return struct;
            }
            default:
                throw new DataException("unsupported schema type " + schema.type());
        }
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return node.binaryValue();
        } catch (IOException e) {
            throw new DataException("invalid bytes value", e);
        }
    }

    /** Decimal.format BASE64 writes the unscaled value's bytes; NUMERIC a JSON number. */
    private static BigDecimal decimal(Schema schema, JsonNode node) {
        int scale = Integer.parseInt(schema.parameters().get(Decimal.SCALE_FIELD));
        if (node.isNumber()) {
            return node.decimalValue().setScale(scale);
        }
        return new BigDecimal(new BigInteger(bytes(node)), scale);
    }

    private static Map<Object, Object> map(Schema schema, JsonNode node, boolean replaceNullWithDefault) {
        Map<Object, Object> map = new HashMap<>();
        if (schema.keySchema().type() == Schema.Type.STRING) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> entry = fields.next();
                map.put(entry.getKey(), toConnect(schema.valueSchema(), entry.getValue(), replaceNullWithDefault));
            }
            return map;
        }
        for (JsonNode pair : node) {
            if (!pair.isArray() || pair.size() != 2) {
                throw new DataException("a map with non-string keys is a JSON array of [key, value] pairs");
            }
            map.put(toConnect(schema.keySchema(), pair.get(0), replaceNullWithDefault),
                    toConnect(schema.valueSchema(), pair.get(1), replaceNullWithDefault));
        }
        return map;
    }
}
