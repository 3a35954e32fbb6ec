"""Alerts: rules over pipeline observations, notification channels, history and delivery."""
