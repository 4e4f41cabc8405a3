"""Fusion engine: hand-computed scores, vetoes, live/backtest agreement, config errors."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError, DataError
from atb.signals import (
    COMPONENTS,
    Direction,
    FusionConfig,
    FusionEngine,
    apply_fusion,
    contribution_summary,
    fuse_frame,
    load_fusion_config,
    model_component,
    set_entry_signals,
    set_exit_signals,
)

T = datetime(2024, 1, 1, tzinfo=UTC)


def test_hand_computed_scores_and_renormalised_weights():
    cfg = FusionConfig()  # technical .4, model .3, sentiment .2, regime .1
    out = fuse_frame(cfg, 3, technical=[1.0, 0.5, np.nan], model=[0.5, np.nan, np.nan],
                     sentiment=[np.nan, -0.5, 0.2], regime=["bull", "bear", None])
    # row 0: known weights .4+.3+.1 = .8 -> (.4*1 + .3*.5 + .1*1)/.8
    assert out["fusion_score"][0] == pytest.approx((0.4 + 0.15 + 0.1) / 0.8)
    assert out["contrib_technical"][0] == pytest.approx(0.5)
    assert out["contrib_model"][0] == pytest.approx(0.1875)
    # row 1: .4*.5 + .2*(-.5) + .1*(-1) over .7
    assert out["fusion_score"][1] == pytest.approx((0.2 - 0.1 - 0.1) / 0.7)
    # row 2: sentiment alone
    assert out["fusion_score"][2] == pytest.approx(0.2)
    total = sum(out[f"contrib_{c}"] for c in COMPONENTS)
    np.testing.assert_allclose(total, out["fusion_score"])
    assert out["fusion_components"].tolist() == [3, 3, 1]
    assert out["fusion_direction"].tolist() == [1, 0, 0]


def test_vetoes_and_shorts():
    cfg = FusionConfig(allow_short=True, min_components=2)
    out = fuse_frame(cfg, 5, technical=[1.0, 1.0, 1.0, -1.0, -1.0],
                     model=[1.0, 1.0, np.nan, -1.0, -1.0],
                     regime=[None, "bear", None, "bull", "range"],
                     event_veto=[True, False, False, False, False])
    assert out["fusion_veto"].tolist() == ["event", "regime", "components", "regime", None]
    assert out["fusion_direction"].tolist() == [0, 0, 0, 0, -1]
    assert out["fusion_emergency"].tolist() == [True, False, False, False, False]
    no_short = fuse_frame(FusionConfig(), 1, technical=[-1.0])
    assert no_short["fusion_direction"][0] == 0 and no_short["fusion_veto"][0] is None


def test_live_engine_agrees_with_frame_on_random_rows():
    rng = np.random.default_rng(7)
    n = 200
    tech = rng.uniform(-1, 1, n)
    prob = rng.uniform(0, 1, n)
    sent = rng.normal(0, 0.5, n)
    tech[rng.random(n) < 0.2] = np.nan
    reg = rng.choice(np.array(["bull", "bear", "range", None], dtype=object), n)
    ev = rng.random(n) < 0.05
    cfg = FusionConfig(allow_short=True)
    frame = fuse_frame(cfg, n, technical=tech, model=model_component(prob), sentiment=sent,
                       regime=reg, event_veto=ev)
    engine = FusionEngine(cfg)
    for i in range(n):
        sig = engine.fuse("BTC/USDT", T, technical=None if np.isnan(tech[i]) else tech[i],
                          model=2 * prob[i] - 1, sentiment=sent[i], regime=reg[i],
                          event_veto=bool(ev[i]))
        assert sig.direction == Direction(int(frame["fusion_direction"][i]))
        assert sig.score == pytest.approx(frame["fusion_score"][i], abs=1e-15)
        assert sig.veto == frame["fusion_veto"][i]
        assert sig.contributions["model"] == pytest.approx(frame["contrib_model"][i], abs=1e-15)


def test_strategy_helpers_set_signals_and_summary():
    df = pd.DataFrame({"close": [1.0, 1.1, 1.2, 1.1]})
    out = apply_fusion(df, FusionConfig(), technical=[1.0, 0.0, -1.0, 1.0],
                       event_veto=[False, False, False, True])
    out = set_entry_signals(out)
    out = set_exit_signals(out, FusionConfig())
    assert out["enter_long"].fillna(0).tolist() == [1, 0, 0, 0]
    assert out["enter_tag"].tolist()[0] == "fusion_long"
    assert out["exit_long"].fillna(0).tolist() == [0, 1, 1, 0]
    assert out["emergency_exit"].tolist() == [0, 0, 0, 1]
    s = contribution_summary(out)
    assert s["entries"] == 1 and s["veto_event"] == 1 and s["emergency_rows"] == 1
    assert s["share_technical"] == pytest.approx(1.0)


@pytest.mark.parametrize("bad, field", [
    ({"weights": {"technicall": 1.0}}, "fusion.weights"),
    ({"weights": {"model": -1.0}}, "fusion.weights"),
    ({"entry_threshold": 0}, "fusion.entry_threshold"),
    ({"regime_scores": {"bull": 2.0}}, "fusion.regime_scores"),
    ({"unknown_key": 1}, "fusion.unknown_key"),
])
def test_bad_config_names_the_field(bad, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_fusion_config(bad)


def test_wrong_length_input_is_rejected():
    with pytest.raises(DataError, match="technical"):
        fuse_frame(FusionConfig(), 3, technical=[1.0, 2.0])
