import pytest

from atb.errors import ConfigError
from atb.ml import TTLPredictionCache


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_ttl_expiry_and_counters():
    clock = FakeClock()
    cache = TTLPredictionCache(10.0, clock=clock)
    assert cache.get("m", "BTC/USDT", 1) is None
    cache.put("m", "BTC/USDT", 1, 0.61)
    clock.t = 109.999
    assert cache.get("m", "BTC/USDT", 1) == 0.61
    assert cache.get("m", "ETH/USDT", 1) is None          # other pair
    assert cache.get("m2", "BTC/USDT", 1) is None         # other model
    clock.t = 110.0                                       # expires exactly ttl after put
    assert cache.get("m", "BTC/USDT", 1) is None
    assert len(cache) == 0
    assert (cache.hits, cache.misses) == (1, 4)
    assert cache.hit_rate == pytest.approx(0.2)


def test_lru_eviction():
    clock = FakeClock()
    cache = TTLPredictionCache(60.0, maxsize=2, clock=clock)
    cache.put("m", "A", 1, 1)
    cache.put("m", "B", 1, 2)
    assert cache.get("m", "A", 1) == 1                    # A is now most recent
    cache.put("m", "C", 1, 3)                             # evicts B
    assert cache.get("m", "B", 1) is None
    assert cache.get("m", "A", 1) == 1 and cache.get("m", "C", 1) == 3
    assert cache.evictions == 1 and len(cache) == 2


def test_config_errors():
    with pytest.raises(ConfigError, match="ttl_seconds"):
        TTLPredictionCache(0)
    with pytest.raises(ConfigError, match="maxsize"):
        TTLPredictionCache(1, maxsize=0)
