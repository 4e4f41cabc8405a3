"""HTML report: one offline file with equity, drawdown and per-pair candles with trade markers."""


import pandas as pd
import pytest

from atb.backtest.export import load_trades_json
from atb.backtest.html_report import build_figures, write_html_report
from atb.backtest.metrics import compute_metrics
from atb.backtest.results import BacktestResult

PAIRS = ("ETH/BTC", "LTC/BTC")


@pytest.fixture(scope="module")
def result(shared_dir):
    trades = load_trades_json(shared_dir / "parity/cases/rsi_bb_meanrev__bittrex_5m/trades.json")
    start, end = pd.Timestamp("2018-01-10 07:25", tz="UTC"), pd.Timestamp("2018-01-30 04:50", tz="UTC")
    candles = {}
    for pair in PAIRS:
        c = pd.read_feather(shared_dir / f"data/bittrex/{pair.replace('/', '_')}-5m.feather")
        candles[pair] = c[(c["date"] >= start) & (c["date"] <= end)].reset_index(drop=True)
    candles["XLM/BTC"] = pd.DataFrame({"close": [1.0, 2.0]})  # close-only: no chart
    return BacktestResult(
        strategy="RsiBbMeanReversion", timeframe="5m",
        pairs=("ETH/BTC", "LTC/BTC", "XLM/BTC", "ADA/BTC", "TRX/BTC"), stake_currency="BTC",
        starting_balance=50.0, max_open_trades=3, backtest_start=start.to_pydatetime(),
        backtest_end=end.to_pydatetime(), trades=trades, config={}, config_hash="",
        candles=candles,
    )


def test_figures_have_one_marker_per_trade(result):
    figures = build_figures(result)
    assert len(figures) == 1 + len(PAIRS)
    equity = figures[0]
    assert [tr.name for tr in equity.data] == ["balance", "drawdown %"]
    assert len(equity.data[0].x) == len(result.trades) + 1
    for pair, fig in zip(PAIRS, figures[1:], strict=True):
        kinds = [tr.type for tr in fig.data]
        assert kinds == ["candlestick", "scatter", "scatter"]
        n = int((result.trades["pair"] == pair).sum())
        entry, exit_ = fig.data[1], fig.data[2]
        assert (entry.name, exit_.name) == ("entry", "exit")
        assert len(entry.x) == len(exit_.x) == n > 0
        t = result.trades[result.trades["pair"] == pair]
        assert list(entry.y) == t["open_rate"].tolist() and list(exit_.y) == t["close_rate"].tolist()
        assert len(fig.data[0].x) == len(result.candles[pair])


def test_file_is_self_contained(result, tmp_path):
    path = tmp_path / "sub" / "report.html"
    metrics = compute_metrics(result)
    write_html_report(result, metrics, path)
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count('"type":"candlestick"') == len(PAIRS)
    assert page.count('"name":"entry"') == len(PAIRS) and page.count('"name":"exit"') == len(PAIRS)
    assert "Drawdown (underwater)" in page and "Equity (closed trades)" in page
    assert "<script src=" not in page  # plotly.js inline, no CDN
    assert len(page) > 3_000_000  # the embedded plotly.js bundle
    for pair in PAIRS:
        n = int((result.trades["pair"] == pair).sum())
        escaped = pair.replace("/", "\\u002f")  # plotly's JSON escapes "/"
        assert f"{escaped}: {n} trades" in page
    assert f"{metrics['profit_total_abs']:.8f} BTC" in page
    assert page.count("<tr>") >= len(metrics["results_per_pair"]) + 1
