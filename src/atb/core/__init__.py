"""Shared kernel: identifiers, time and timeframe helpers, money rounding (no I/O)."""
