"""Monitoring: events, dashboard counters, metrics, lag, verification."""
