"""One strategy instance in the live engine: its runner, risk engine, order manager and wallet slice.

A :class:`TradingBot` turns the decisions of its :class:`~atb.live.runner.StrategyRunner` into
orders. Entries pass the bot's :class:`~atb.risk.engine.RiskEngine` inside the runner's step (the
gate); every decision, with its signals and the risk verdict, is recorded in the order store;
orders go through the bot's :class:`~atb.execution.order_manager.OrderManager` (write-ahead,
idempotent client ids). Orders are keyed by the decision that produced them (tag
``<kind>:<pair>:<candle open ns>``): processing a candle again after a crash finds the order
already written and does not send it twice.

Order style: ``"limit"`` sends each order as a limit order at the loop's price (the candle replay
mode: a :class:`~atb.execution.paper.PaperExchange` in ``bar`` mode fills it within the candle the
decision was made on, exactly as the backtest); ``"market"`` is live mode: the loop runs in the
real order of events (:mod:`atb.live.runner`: entries at the candle's open, stop/ROI exits on the
prices inside the candle through :meth:`TradingBot.on_price`), market orders are sent at once and
the real fill price is written back into the loop's trade state.

Smart order routing (live mode with a ``router``): each market order is routed through a
:class:`~atb.execution.smart_router.SmartOrderRouter` instead of the bot's manager, split by
price across the venues' books into LIMIT IOC children tagged ``<tag>:sor:<k>``. The bot then
sees the children as one order (:func:`aggregate_orders`: filled = sum, average = volume-weighted,
status ``filled`` only when every non-rejected child filled), so the decision tag still finds
what a candle sent and a re-processed candle sends nothing. A routed order whose children all
ended with only part filled (IOC expiry) counts with what filled; the shortfall is reported in
:attr:`TradingBot.errors`. ``sync`` polls the open orders of every venue, each on its own venue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from atb.backtest.kernels import records as rec
from atb.core.enums import OrderSide, OrderType, SignalDirection
from atb.execution.fills import amount_to_step, to_decimal
from atb.execution.models import Market
from atb.execution.order_manager import OrderManager
from atb.execution.smart_router import SmartOrderRouter
from atb.live.runner import StrategyRunner
from atb.live.stepper import EntryDecision, ExitDecision, StepResult
from atb.orders.models import Order, OrderIntent
from atb.orders.ports import OrderStore
from atb.orders.records import Decision, LiveTrade
from atb.orders.state import OrderStatus, is_terminal
from atb.risk.engine import OpenPosition, RiskEngine

__all__ = ["BotPortfolio", "OrderStyle", "TradingBot", "aggregate_orders", "routed_children"]

OrderStyle = Literal["limit", "market"]

#: Infix of the tags of routed children: ``<decision tag>:sor:<k>``.
_SOR = ":sor:"


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def routed_children(orders: Sequence[Order], tag: str) -> list[Order]:
    """The children the smart order router sent for ``tag`` (tags ``<tag>:sor:<k>``), in ``orders`` order."""
    prefix = tag + _SOR
    return [o for o in orders if o.tag is not None and o.tag.startswith(prefix)
            and o.tag[len(prefix):].isdigit()]


def _aggregate_status(live: Sequence[Order], filled: Decimal) -> OrderStatus:
    waiting = [o.status for o in live if not is_terminal(o.status)]
    if waiting:
        return (OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.SUBMITTED
                if {OrderStatus.NEW, OrderStatus.SUBMITTED} & set(waiting) else OrderStatus.OPEN)
    return next((o.status for o in live if o.status != OrderStatus.FILLED), OrderStatus.FILLED)


def aggregate_orders(orders: Sequence[Order]) -> Order:
    """Routed children seen as one order (a view, never stored).

    Rejected children are left out unless every child was rejected. ``request.amount`` is the
    children's total (so ``filled <= amount`` holds), ``filled`` and ``fee`` are sums,
    ``average`` the volume-weighted average of the children's fills (quote currency, fees
    excluded); status ``filled`` only when every non-rejected child is filled, else
    ``partially_filled``/``open``/``submitted`` while one is in flight, else the first unfilled
    child's terminal status. ``client_order_id`` is the first child's, ``venue`` the venues
    joined by ``+`` in child order.

    Raises
    ------
    ValueError
        No order given.
    """
    if not orders:
        raise ValueError("aggregate_orders: no order")
    live = [o for o in orders if o.status != OrderStatus.REJECTED] or list(orders)
    first = live[0]
    filled = sum((o.filled for o in live), Decimal(0))
    value = sum((o.filled * o.average for o in live if o.average is not None and o.filled > 0), Decimal(0))
    venues = list(dict.fromkeys(o.venue for o in live))
    return replace(
        first, request=replace(first.request, amount=sum((o.request.amount for o in live), Decimal(0))),
        status=_aggregate_status(live, filled), venue="+".join(venues)[:64],
        filled=filled, average=value / filled if filled > 0 else None,
        fee=sum((o.fee for o in live), Decimal(0)), updated_at=max(o.updated_at for o in live))


class BotPortfolio:
    """The risk engine's view of one bot: wallet slice + realised profit + open trades at market.

    ``last_close`` (pair -> close, quote currency) is updated by the bot on every candle.
    """

    def __init__(self, runner: StrategyRunner, wallet: float) -> None:
        self.runner = runner
        self.wallet = float(wallet)
        self.last_close: dict[str, float] = {}

    def positions(self) -> list[OpenPosition]:
        """Open trades at the last close (notional, quote currency)."""
        out = []
        for pair in self.runner.stepper.open_trade_pairs():
            st = self.runner.open_trade_state(pair)
            if st is None:
                continue
            price = self.last_close.get(pair, st["open_rate"])
            out.append(OpenPosition(pair, st["amount"] * price, st["is_short"] > 0.5))
        return out

    def equity(self) -> float:
        """Wallet + realised profit + unrealised profit of open trades (quote currency)."""
        eq = self.wallet + self.runner.wallet()["closed_profit"]
        for pair in self.runner.stepper.open_trade_pairs():
            st = self.runner.open_trade_state(pair)
            if st is None:
                continue
            price = self.last_close.get(pair, st["open_rate"])
            sign = -1.0 if st["is_short"] > 0.5 else 1.0
            eq += sign * (price - st["open_rate"]) * st["amount"]
        return eq


@dataclass(slots=True)
class _Pending:
    """Entry decisions of the step being processed and their risk verdicts."""

    verdicts: dict[tuple[str, int], tuple[str, str | None]] = field(default_factory=dict)


class TradingBot:
    """A strategy instance wired to the risk engine, the order store and its venue.

    Parameters
    ----------
    strategy_id : str
        Unique id of this instance (orders, decisions and trades are stored under it).
    runner : StrategyRunner
        Built without a gate; the bot installs the risk engine as its gate.
    risk : RiskEngine
        This bot's risk engine (its portfolio view is :attr:`portfolio`).
    portfolio : BotPortfolio
    manager : OrderManager
    store : OrderStore
    markets : mapping pair -> Market
        The venue's rules (amount step, price tick) for rounding orders.
    order_style : OrderStyle
        ``"limit"`` (replay) or ``"market"`` (live).
    router : SmartOrderRouter, optional
        Live mode across several venues: market orders are routed through it (one order
        manager per venue, all with this ``strategy_id`` and ``store``; ``manager`` is the
        primary venue's). Ignored in ``"limit"`` style. Default None: one venue.
    """

    def __init__(self, strategy_id: str, runner: StrategyRunner, risk: RiskEngine,
                 portfolio: BotPortfolio, manager: OrderManager, store: OrderStore,
                 markets: Mapping[str, Market], *, order_style: OrderStyle = "limit",
                 router: SmartOrderRouter | None = None) -> None:
        self.strategy_id = strategy_id
        self.runner = runner
        self.risk = risk
        self.portfolio = portfolio
        self.manager = manager
        self.store = store
        self.markets = dict(markets)
        self.order_style: OrderStyle = order_style
        self.router = router
        self._pending = _Pending()
        self._candle_ns = 0
        runner._gate = self._gate
        self.errors: list[str] = []
        self._awaiting: dict[str, EntryDecision] = {}  # entry orders not filled when sent

    @property
    def pairs(self) -> tuple[str, ...]:
        """Pairs this bot trades."""
        return self.runner.pairs

    # -- the risk gate inside the runner's step -----------------------------------------------
    def _gate(self, entry: EntryDecision) -> float:
        intent = OrderIntent(pair=entry.pair, kind="entry", is_short=entry.is_short,
                             stake=max(entry.stake, 1e-12), price=entry.price,
                             leverage=max(entry.leverage, 1.0), created_at=_utc(entry.at_ns),
                             tag=entry.tag or None)
        decision = self.risk.check(intent)
        key = (entry.pair, entry.at_ns)
        if not decision.approved:
            self._pending.verdicts[key] = ("denied", decision.rule)
            return 0.0
        self._pending.verdicts[key] = ("reduced" if decision.reduced else "approved", decision.rule)
        if not decision.reduced:
            return entry.amount
        return min(decision.stake * intent.leverage / entry.price, entry.amount)

    # -- one candle ----------------------------------------------------------------------------
    async def on_candles(self, at_ns: int, candles: Mapping[str, tuple[float, float, float, float, float]]
                         ) -> StepResult:
        """Step the strategy on the closed candles of ``at_ns`` and place the orders it decides.

        ``candles`` maps pair -> ``(open, high, low, close, volume)`` for this bot's pairs.
        """
        mine = {p: c for p, c in candles.items() if p in self.runner.pairs}
        self._candle_ns = at_ns
        for pair, c in mine.items():
            self.portfolio.last_close[pair] = float(c[3])
        await self.sync()
        self.risk.mark(self.portfolio.equity(), _utc(at_ns + self.runner.tf_ns))
        self._pending = _Pending()
        closed: list[ExitDecision] = []
        if self.order_style == "market":
            closed = self.runner.close_candle(at_ns, mine)
            for x in closed:
                await self._exit(x)
            nxt = at_ns + self.runner.tf_ns
            result = self.runner.open_candle(nxt, {p: float(c[3]) for p, c in mine.items()})
            step_at = nxt
        else:
            result = self.runner.on_candles(at_ns, mine)
            step_at = at_ns
        await self._act(result, step_at)
        self._flatten_if_requested()
        if closed:
            result = StepResult(at_ns=result.at_ns, entries=result.entries,
                                exits=tuple(closed) + result.exits,
                                rejected_signals=result.rejected_signals)
        return result

    async def _act(self, result: StepResult, step_at: int) -> None:
        self._record_denials(step_at)
        for x in (x for x in result.exits if x.open_ns < step_at):
            await self._exit(x)
        for e in result.entries:
            await self._entry(e)
        for x in (x for x in result.exits if x.open_ns >= step_at):
            await self._exit(x)

    async def start(self) -> StepResult | None:
        """Live mode: open the current candle after start-up (entries on the last signals).

        Nothing happens in replay mode or when the candle is already open (a restart restored
        it from the checkpoint).
        """
        r = self.runner
        if self.order_style != "market" or r.stepper.next_t != r.last_ns + r.tf_ns:
            return None
        prices = {p: float(r._hist[p]["close"].iloc[-1]) for p in r.pairs}
        self._pending = _Pending()
        result = r.open_candle(r.last_ns + r.tf_ns, prices)
        await self._act(result, result.at_ns)
        self._flatten_if_requested()
        return result

    async def on_price(self, pair: str, price: float) -> ExitDecision | None:
        """Live mode: a traded price of ``pair`` inside the current candle.

        The loop's exit rules run on the candle seen so far; an exit they take is sent as a
        market order at once. Returns the exit (None: nothing to do).
        """
        if self.order_style != "market" or pair not in self.runner.pairs:
            return None
        self.portfolio.last_close[pair] = float(price)
        x = self.runner.on_price(pair, price)
        if x is not None:
            await self._exit(x)
        return x

    def _record_denials(self, at_ns: int) -> None:
        for (pair, t), (verdict, rule) in self._pending.verdicts.items():
            if verdict == "denied":
                self.store.record_decision(Decision(
                    strategy_id=self.strategy_id, pair=pair, candle_time=_utc(t), action="denied",
                    signals=self._signals(pair), risk_verdict="denied", risk_rule=rule,
                    risk_reason=f"entry denied by {rule}"))

    def _signals(self, pair: str) -> dict[str, Any]:
        sig = self.runner.signals.get(pair) or {}
        return {k: (v if isinstance(v, str | int | float | bool) or v is None else str(v))
                for k, v in sig.items()}

    def _flatten_if_requested(self) -> None:
        from atb.orders.events import FlattenRequested

        new = [ev for ev in self.risk.events if isinstance(ev, FlattenRequested)]
        if not new:
            return
        self.risk.events[:] = [ev for ev in self.risk.events if not isinstance(ev, FlattenRequested)]
        for ev in new:
            pairs = ev.pairs or self.runner.stepper.open_trade_pairs()
            for pair in pairs:
                self.runner.signals.setdefault(pair, {})["emergency_exit"] = 1

    # -- orders --------------------------------------------------------------------------------
    def _round_amount(self, pair: str, amount: float) -> Decimal:
        return amount_to_step(to_decimal(float(amount)), self.markets[pair].amount_step)

    @property
    def _routing(self) -> bool:
        return self.router is not None and self.order_style == "market"

    def _existing(self, pair: str, tag: str) -> Order | None:
        """The order ``tag`` produced (a routed one as the aggregate of its children), or None."""
        orders = self.store.orders(self.strategy_id, pair)
        for order in orders:
            if order.tag == tag and order.status != OrderStatus.REJECTED:
                return order
        children = [o for o in routed_children(orders, tag) if o.status != OrderStatus.REJECTED]
        return aggregate_orders(children) if children else None

    def _done(self, order: Order) -> bool:
        """Filled; for a routed order also: every child finished with something filled."""
        if order.average is None or order.filled <= 0:
            return False
        return order.status == OrderStatus.FILLED or (
            self._routing and is_terminal(order.status) and order.status != OrderStatus.REJECTED)

    def _siblings(self, cid: str) -> list[Order]:
        """The stored order ``cid``; for a routed child, every child of its route."""
        order = self.store.get_order(cid)
        if order is None or order.tag is None or _SOR not in order.tag:
            return [] if order is None else [order]
        parent = order.tag.rsplit(_SOR, 1)[0]
        return routed_children(self.store.orders(order.strategy_id, order.request.pair), parent) or [order]

    def _order_fees(self, cid: str) -> Decimal:
        """Fees of an order's fills (of every child's for a routed order)."""
        fills = (f for o in self._siblings(cid) for f in self.store.fills(o.client_order_id))
        return sum((f.fee for f in fills), Decimal(0))

    async def _send(self, pair: str, side: OrderSide, amount: Decimal, price: float,
                    tag: str) -> Order | None:
        existing = self._existing(pair, tag)
        if existing is not None:
            return existing
        if amount <= 0:
            self.errors.append(f"{tag}: amount rounds to 0")
            return None
        if self.order_style == "limit":
            return await self.manager.submit(pair=pair, side=side, order_type=OrderType.LIMIT,
                                             amount=amount, price=to_decimal(float(price)), tag=tag)
        if self.router is not None:
            routed = await self.router.route(pair, side, amount, tag=tag)
            if routed.unfilled > 0:
                why = "".join(f"; {s.venue} skipped ({s.stage}): {s.reason}" for s in routed.skipped)
                self.errors.append(f"{tag}: routed {routed.filled} of {routed.requested}, "
                                   f"{routed.unfilled} unfilled{why}")
            return aggregate_orders(routed.orders) if routed.orders else None
        return await self.manager.submit(pair=pair, side=side, order_type=OrderType.MARKET,
                                         amount=amount, tag=tag)

    async def _entry(self, e: EntryDecision) -> None:
        tag = f"entry:{e.pair}:{e.at_ns}"
        verdict, rule = self._pending.verdicts.get((e.pair, e.at_ns), ("approved", None))
        side = OrderSide.SELL if e.is_short else OrderSide.BUY
        order = await self._send(e.pair, side, self._round_amount(e.pair, e.amount), e.price, tag)
        self.store.record_decision(Decision(
            strategy_id=self.strategy_id, pair=e.pair, candle_time=_utc(e.at_ns), action="entry",
            signals={**self._signals(e.pair), "price": e.price, "amount": e.amount, "tag": e.tag},
            risk_verdict=verdict, risk_rule=rule,
            client_order_id=None if order is None else order.client_order_id))
        if order is None:
            return
        if self._done(order):
            self._entry_filled(e, order)
        elif order.status == OrderStatus.REJECTED:
            self.errors.append(f"{tag}: entry order rejected")
        else:
            self._awaiting[order.client_order_id] = e

    def _entry_filled(self, e: EntryDecision, order: Order) -> None:
        assert order.average is not None
        st = self.runner.open_trade_state(e.pair)
        if st is not None and self.order_style == "market":
            self.runner.stepper.apply_entry_fill(e.pair, open_rate=float(order.average),
                                                 amount=float(order.filled))
        self.store.save_trade(LiveTrade(
            trade_id=f"{self.strategy_id}:{e.pair}:{e.at_ns}"[:64], strategy_id=self.strategy_id,
            venue=order.venue, pair=e.pair,
            side=SignalDirection.SHORT if e.is_short else SignalDirection.LONG,
            amount=order.filled, open_time=_utc(e.at_ns), open_rate=order.average,
            entry_client_order_id=order.client_order_id, enter_tag=e.tag or None))

    async def sync(self) -> None:
        """Bring the loop, the store and the venue back in line (before every candle).

        Resolves orders still open or in flight (:meth:`OrderManager.poll_open_orders`); records
        entries that filled late; closes, with a market order, any position the strategy's loop
        does not hold (an exit that could not be sent while its entry was in flight, or a
        position left by a crash); and drops from the loop a trade whose entry never filled.
        """
        await self._poll_open_orders()
        for cid, e in list(self._awaiting.items()):
            siblings = self._siblings(cid)
            order = siblings[0] if len(siblings) == 1 else aggregate_orders(siblings) if siblings else None
            if order is not None and self._done(order):
                self._awaiting.pop(cid)
                self._entry_filled(e, order)
            elif order is None or order.status in (OrderStatus.REJECTED, OrderStatus.CANCELLED,
                                                   OrderStatus.EXPIRED):
                self._awaiting.pop(cid)
        busy = {o.request.pair for m in self.managers for o in m.open_orders()}
        loop_pairs = set(self.runner.stepper.open_trade_pairs())
        for pair in self.runner.pairs:
            if pair in busy:
                continue
            held = self.store.position(self.strategy_id, pair).amount
            amount = self._round_amount(pair, float(abs(held))) if held else Decimal(0)
            if amount > 0 and pair not in loop_pairs:
                price = self.portfolio.last_close.get(pair, 0.0)
                x = ExitDecision(pair=pair, at_ns=self._candle_ns, is_short=held < 0,
                                 price=price if price > 0 else 1.0, amount=float(amount),
                                 reason="position_sync", open_rate=0.0, open_ns=0, profit_abs=0.0)
                await self._exit(x, tag=f"sync:{pair}:{self._candle_ns}", any_trade=True)
            elif held == 0 and pair in loop_pairs and self.order_style == "market":
                st = self.runner.open_trade_state(pair)
                if st is not None:  # the venue never filled the entry
                    self.runner.stepper.close_trade(pair, self._candle_ns or self.runner.last_ns,
                                                    st["open_rate"], rec.EXIT_FORCE)
                    self.errors.append(f"{pair}: entry never filled; trade dropped from the loop")

    @property
    def managers(self) -> list[OrderManager]:
        """One order manager per venue this bot trades on (the main one first)."""
        out = [self.manager]
        if self.router is not None:
            out += [m for v, m in sorted(self.router.managers.items()) if v != self.manager.venue]
        return out

    async def _poll_open_orders(self) -> None:
        """Resolve in-flight orders, each on the venue it was sent to."""
        for manager in self.managers:
            await manager.poll_open_orders()

    async def _exit(self, x: ExitDecision, *, tag: str | None = None, any_trade: bool = False) -> None:
        tag = tag or f"exit:{x.pair}:{x.at_ns}:{x.open_ns}"
        side = OrderSide.BUY if x.is_short else OrderSide.SELL
        held = self.store.position(self.strategy_id, x.pair).amount
        amount = min(self._round_amount(x.pair, x.amount), abs(held)) if held else Decimal(0)
        order = await self._send(x.pair, side, amount, x.price, tag)
        self.store.record_decision(Decision(
            strategy_id=self.strategy_id, pair=x.pair, candle_time=_utc(x.at_ns), action="exit",
            signals={**self._signals(x.pair), "price": x.price, "reason": x.reason},
            client_order_id=None if order is None else order.client_order_id))
        if order is None or order.status != OrderStatus.FILLED or order.average is None:
            if order is not None and order.status == OrderStatus.REJECTED:
                self.errors.append(f"{tag}: exit order rejected")
            return
        trade_id = f"{self.strategy_id}:{x.pair}:{x.open_ns}"[:64]
        for t in self.store.open_trades(self.strategy_id):
            if t.trade_id == trade_id or (any_trade and t.pair == x.pair):
                entry_fee = self._order_fees(t.entry_client_order_id)
                exit_fee = self._order_fees(order.client_order_id)
                sign = Decimal(-1) if x.is_short else Decimal(1)
                profit = sign * (order.average - t.open_rate) * order.filled - entry_fee - exit_fee
                stake = t.open_rate * t.amount
                self.store.save_trade(LiveTrade(
                    trade_id=t.trade_id, strategy_id=t.strategy_id, venue=t.venue, pair=t.pair,
                    side=t.side, amount=t.amount, open_time=t.open_time, open_rate=t.open_rate,
                    entry_client_order_id=t.entry_client_order_id, enter_tag=t.enter_tag,
                    close_time=_utc(x.at_ns), close_rate=order.average, profit_abs=profit,
                    profit_ratio=profit / stake if stake > 0 else Decimal(0), exit_reason=x.reason,
                    exit_client_order_id=order.client_order_id))
                break

    def equity(self) -> float:
        """Mark-to-market equity of this bot's wallet slice, quote currency."""
        value = self.portfolio.equity()
        return value if math.isfinite(value) else self.portfolio.wallet
