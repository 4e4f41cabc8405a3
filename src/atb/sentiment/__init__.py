"""Sentiment and events from news: scorers, collectors, aggregation to candles, event detection."""
