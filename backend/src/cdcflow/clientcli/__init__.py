"""The operator's command line: cdcflow login / connections / pipelines / events, over the REST API."""
