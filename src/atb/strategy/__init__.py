"""atb.strategy."""
