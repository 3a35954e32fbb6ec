package io.cdcflow.connect;

/** Where schemas live by id: written once by the converter that first meets a schema, read by every other. */
public interface SchemaStore {

    /** Stores the schema (its JSON form) under its id; storing the same id twice is harmless. */
    void register(long id, byte[] schemaJson);

    /** The schema's JSON form, waiting for it up to the store's deadline; a DataException if it never appears. */
    byte[] lookup(long id);
}
