"""The event logger: Debezium change events from Kafka into pipeline_runs, then out to browsers over Socket.IO."""
