"""atb.testing."""
