"""atb.data."""
