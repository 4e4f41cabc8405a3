import pytest

from atb.errors import ConfigError
from atb.features import INDICATOR_NAMES, FeatureConfig, load_feature_config


def test_defaults():
    cfg = FeatureConfig()
    assert cfg.indicators == ["rsi", "mfi", "adx", "roc", "atr_pct", "bb_width", "ema_dist",
                              "volatility", "volume_z"]
    assert cfg.periods == [10, 20, 50]
    assert cfg.informative_timeframes == []
    assert cfg.shifted_candles == 2
    assert cfg.correlated_pairs == []
    assert cfg.include_returns is True
    assert cfg.include_time is True
    assert set(cfg.indicators) == set(INDICATOR_NAMES)


def test_unknown_indicator_names_field_and_lists_valid_names():
    with pytest.raises(ConfigError, match=r"features\.indicators: unknown indicator 'macdx'") as exc:
        FeatureConfig(indicators=["rsi", "macdx"])
    for name in INDICATOR_NAMES:
        assert name in str(exc.value)


def test_period_below_two():
    with pytest.raises(ConfigError, match=r"features\.periods: period 1 is below 2"):
        FeatureConfig(periods=[14, 1])


def test_informative_timeframe_not_a_multiple():
    cfg = FeatureConfig(informative_timeframes=["90m"])
    with pytest.raises(ConfigError, match=r"features\.informative_timeframes: '90m' is not a multiple"):
        cfg.check_timeframe("1h")
    with pytest.raises(ConfigError, match=r"features\.informative_timeframes"):
        FeatureConfig(informative_timeframes=["1h"]).check_timeframe("1h")  # 1x is no higher timeframe
    assert FeatureConfig(informative_timeframes=["4h", "1d"]).check_timeframe("1h") == 3600


@pytest.mark.parametrize("tf", ["4x", "1M", ""])
def test_informative_timeframe_malformed_or_variable(tf):
    with pytest.raises(ConfigError, match=r"features\.informative_timeframes"):
        FeatureConfig(informative_timeframes=[tf])


def test_other_validation_names_the_field():
    with pytest.raises(ConfigError, match=r"features\.shifted_candles"):
        FeatureConfig(shifted_candles=-1)
    with pytest.raises(ConfigError, match=r"features\.correlated_pairs"):
        FeatureConfig(correlated_pairs=["ETH/USDT", "ETH/USDT"])
    with pytest.raises(ConfigError, match=r"features\.periods: 14 is listed twice"):
        FeatureConfig(periods=[14, 14])


def test_loader_maps_pydantic_errors_to_config_error():
    with pytest.raises(ConfigError, match=r"features\.perods"):
        load_feature_config({"perods": [14]})
    with pytest.raises(ConfigError, match=r"features\.shifted_candles"):
        load_feature_config({"shifted_candles": "many"})
    with pytest.raises(ConfigError, match=r"features\.periods: period 0"):
        load_feature_config({"periods": [0]})
    assert load_feature_config(None) == FeatureConfig()
