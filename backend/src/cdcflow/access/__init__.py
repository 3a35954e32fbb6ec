"""Resource-level permissions: owners and grants on pipelines and connections."""
