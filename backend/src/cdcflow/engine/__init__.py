"""The data plane adapters: Kafka Connect, source/target databases, full load."""
