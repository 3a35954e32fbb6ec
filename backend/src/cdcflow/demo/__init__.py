"""The first-run demo: a small shop schema in demo_source, two connections, and steady traffic."""
