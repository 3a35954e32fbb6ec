"""Pipelines: CRUD and validation (lifecycle and engine calls arrive with the engine)."""
