"""Candle storage adapters in freqtrade's layout: feather, parquet, json, json.gz."""

from atb.data.storage.base import (
    FORMATS,
    FileCandleStore,
    detect_format,
    list_available,
    pair_to_filename,
    store_for,
)

__all__ = [
    "FORMATS",
    "FileCandleStore",
    "detect_format",
    "list_available",
    "pair_to_filename",
    "store_for",
]
