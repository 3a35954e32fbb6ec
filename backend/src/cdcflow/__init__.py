"""cdcflow: a self-hosted manager for Change Data Capture pipelines."""

__version__ = "0.1.0"
