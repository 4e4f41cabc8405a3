"""atb.indicators."""
