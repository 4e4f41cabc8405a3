"""Run ``freqtrade`` offline for benchmarks: markets from a JSON file, backtest loop timed.

Usage (inside the freqtrade venv)::

    ATB_BENCH_MARKETS=markets.json ATB_BENCH_TIMINGS=out.json python ft_offline.py backtesting ...

``Exchange._load_async_markets`` is replaced by a function that hands the file's markets to
ccxt's own ``set_markets()`` (the seam freqtrade's tests use); ``Backtesting.backtest`` (the
trade loop) is wrapped to record its wall time. Written for atb's benchmarks; no freqtrade code.
"""

from __future__ import annotations

import json
import os
import sys
import time

TIMES: dict[str, float] = {"loop_s": 0.0}


def _offline_markets(self, reload: bool = False) -> None:
    with open(os.environ["ATB_BENCH_MARKETS"], encoding="utf-8") as fh:
        self._api_async.set_markets(json.load(fh))


def main() -> None:
    t0 = time.perf_counter()
    import freqtrade.exchange.exchange as exchange_module
    from freqtrade.optimize import backtesting as bt_module

    exchange_module.Exchange._load_async_markets = _offline_markets
    original = bt_module.Backtesting.backtest

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            result = original(self, *args, **kwargs)
            TIMES["trades"] = TIMES.get("trades", 0) + len(result["results"])
            return result
        finally:
            TIMES["loop_s"] += time.perf_counter() - start

    bt_module.Backtesting.backtest = timed
    from freqtrade.main import main as ft_main

    code = 0
    try:
        ft_main(sys.argv[1:])
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        TIMES["process_after_python_start_s"] = time.perf_counter() - t0
        out = os.environ.get("ATB_BENCH_TIMINGS")
        if out:
            with open(out, "w", encoding="utf-8") as fh:
                json.dump(TIMES, fh)
    sys.exit(code)


if __name__ == "__main__":
    main()
