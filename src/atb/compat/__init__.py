"""atb.compat."""
