"""The audit trail of mutations."""
