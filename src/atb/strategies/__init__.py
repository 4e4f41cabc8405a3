"""atb.strategies."""
