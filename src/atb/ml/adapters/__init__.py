"""Model adapters behind :class:`atb.ml.ports.Model` (heavy libraries are imported lazily)."""
