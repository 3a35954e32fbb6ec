"""Login, token refresh with rotation, logout, and the current user."""
