"""Normalizer: statistics from the training window only, numpy references, JSON round trip."""

import json

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError, DataError, ModelError
from atb.features import FeatureConfig, Normalizer, build_features, drop_warmup


@pytest.fixture(scope="module")
def values(btc_1h):
    cfg = FeatureConfig(indicators=["rsi", "atr_pct", "volume_z"], periods=[14], shifted_candles=0)
    frame = build_features(btc_1h.iloc[:3000].reset_index(drop=True), cfg, timeframe="1h")
    return drop_warmup(frame)[0]


def _reference(train, method):
    x = train.to_numpy()
    if method == "zscore":
        center, scale = x.mean(axis=0), x.std(axis=0, ddof=0)
    elif method == "robust":
        q25, center, q75 = np.percentile(x, [25, 50, 75], axis=0)
        scale = q75 - q25
    else:
        center, scale = x.min(axis=0), x.max(axis=0) - x.min(axis=0)
    return center, np.where(scale > 0, scale, 1.0)


@pytest.mark.parametrize("method", ["zscore", "robust", "minmax"])
def test_transform_outside_training_uses_training_statistics_only(values, method):
    train, later = values.iloc[:1500], values.iloc[1500:]
    norm = Normalizer(method=method).fit(train)
    center, scale = _reference(train, method)
    np.testing.assert_allclose(norm.transform(later).to_numpy(), (later.to_numpy() - center) / scale,
                               rtol=1e-12, atol=1e-12)
    # the out-of-window rows are not standardised to their own statistics
    if method == "zscore":
        assert not np.allclose(norm.transform(later).mean().to_numpy(), 0.0, atol=1e-3)
    # refitting on a window that includes later rows changes the statistics: the fit is window-bound
    assert Normalizer(method=method).fit(values).center != norm.center


def test_minmax_maps_training_range_to_unit_interval(values):
    out = Normalizer(method="minmax").fit(values).transform(values)
    np.testing.assert_allclose(out.min().to_numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.max().to_numpy(), 1.0, atol=1e-12)


def test_zero_variance_and_nan_columns_are_finite():
    train = pd.DataFrame({"const": [3.0, 3.0, 3.0], "nan": [np.nan] * 3, "x": [1.0, np.nan, 3.0]})
    for method in ("zscore", "robust", "minmax"):
        norm = Normalizer(method=method).fit(train)
        out = norm.transform(pd.DataFrame({"const": [3.0, 4.0], "nan": [1.0, 2.0], "x": [2.0, 5.0]}))
        assert np.isfinite(out.to_numpy()).all()
        assert out["const"].tolist() == [0.0, 1.0]
        assert out["nan"].tolist() == [1.0, 2.0]  # center 0, scale 1
    z = Normalizer().fit(train).transform(pd.DataFrame({"const": [3.0], "nan": [0.0], "x": [5.0]}))
    assert z["x"].iloc[0] == pytest.approx((5.0 - 2.0) / 1.0)  # NaN ignored: mean 2, std 1


def test_json_round_trip(values):
    norm = Normalizer(method="robust").fit(values)
    restored = Normalizer.from_dict(json.loads(json.dumps(norm.to_dict())))
    assert restored.columns == norm.columns and restored.method == "robust"
    pd.testing.assert_frame_equal(restored.transform(values), norm.transform(values))


def test_errors():
    with pytest.raises(ConfigError, match="Normalizer.method"):
        Normalizer(method="l2")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="not fitted"):
        Normalizer().transform(pd.DataFrame({"a": [1.0]}))
    norm = Normalizer().fit(pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]}))
    with pytest.raises(DataError, match="missing column 'b'"):
        norm.transform(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(DataError, match="column 'c' was not fitted"):
        norm.transform(pd.DataFrame({"a": [1.0], "b": [1.0], "c": [1.0]}))
    with pytest.raises(ModelError, match="malformed"):
        Normalizer.from_dict({**norm.to_dict(), "scale": [1.0]})
    with pytest.raises(ModelError):
        Normalizer.from_dict({"method": "zscore"})
    # column order of the input does not matter
    pd.testing.assert_frame_equal(norm.transform(pd.DataFrame({"b": [3.0], "a": [2.0]})),
                                  norm.transform(pd.DataFrame({"a": [2.0], "b": [3.0]})))
