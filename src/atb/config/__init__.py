"""atb.config."""
