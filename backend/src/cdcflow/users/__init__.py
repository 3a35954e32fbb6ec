"""Admin-only user management."""
