"""Kafka Connect REST API client and connector configuration builders."""
