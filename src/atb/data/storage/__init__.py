"""atb.data.storage."""
