"""Features for ML models: config-driven feature sets, labels, normalisation (causal)."""
