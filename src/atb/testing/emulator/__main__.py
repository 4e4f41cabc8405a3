"""Run the emulator by hand: ``python -m atb.testing.emulator --pairs BTC/USDT --datadir DIR``.

Loads ``<datadir>/<BASE>_<QUOTE>-<timeframe>.feather`` per pair, prints the URLs and the ccxt
config, then advances one candle every ``timeframe / speed`` seconds of wall time until Ctrl-C.
Binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd

from atb.core.timeframe import timeframe_to_seconds
from atb.testing.emulator.config import EmulatorConfig
from atb.testing.emulator.emulator import BinanceEmulator


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m atb.testing.emulator", description=__doc__)
    p.add_argument("--pairs", nargs="+", required=True, help="unified pairs, e.g. BTC/USDT")
    p.add_argument("--datadir", type=Path, required=True, help="folder of freqtrade feather files")
    p.add_argument("--timeframe", default="1h", help="candle timeframe of the files and the clock")
    p.add_argument("--speed", type=float, default=60.0,
                   help="replay speed: candle seconds per wall second (60: a 1m candle each second)")
    p.add_argument("--start-index", type=int, default=500, help="current candle index at start")
    p.add_argument("--usdt", default="10000", help="initial free USDT")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    candles = {pair: pd.read_feather(args.datadir / f"{pair.replace('/', '_')}-{args.timeframe}.feather")
               for pair in args.pairs}
    cfg = EmulatorConfig(pairs=tuple(args.pairs), candles=candles, timeframe=args.timeframe,
                         balances={"USDT": Decimal(args.usdt)}, seed=args.seed,
                         start_index=args.start_index)
    step_s = timeframe_to_seconds(args.timeframe) / args.speed
    async with BinanceEmulator(cfg) as emu:
        print(f"REST {emu.rest_url}\nWS   {emu.ws_url}", flush=True)
        print("ccxt config:", json.dumps(emu.ccxt_config(), indent=1), flush=True)
        while True:
            await asyncio.sleep(step_s)
            if not emu.advance():
                print("end of data", flush=True)
                return


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m atb.testing.emulator``."""
    try:
        asyncio.run(_run(_parse(argv)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
