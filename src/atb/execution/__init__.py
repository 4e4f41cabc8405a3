"""Execution: the exchange port, its adapters (paper, ccxt), fills and the order path to a venue."""
