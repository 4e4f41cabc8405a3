"""Order domain records: intents, orders and their events (frozen; replaced, never mutated)."""
