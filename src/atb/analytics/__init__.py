"""atb.analytics."""
