"""The initial full load: COPY streamed from a source snapshot into the target, tables in parallel."""
