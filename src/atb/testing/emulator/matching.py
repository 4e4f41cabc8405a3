"""Order matching and the account of the emulator: pure Python, no I/O, no aiohttp.

Semantics (documented in the package docstring too):

- The book around the current price has a spread of one tick: ``bid = floor_tick(close)``,
  ``ask = bid + tick``, with unlimited size at the top (every fill is complete, never partial).
- MARKET buys fill at the ask, sells at the bid, taker fee. ``quoteOrderQty`` market buys spend
  that much quote (quantity rounded down to the lot step).
- LIMIT (GTC/IOC/FOK) orders that are marketable (buy price >= ask, sell price <= bid) fill at
  once at the ask/bid (taker fee); otherwise GTC rests (IOC/FOK expire). A resting buy fills on a
  later candle whose ``low <= price`` (a sell: ``high >= price``) at its limit price, maker fee.
- LIMIT_MAKER that would take is rejected (-2010 "Order would immediately match and take.").
- STOP_LOSS_LIMIT (sell: triggers when a candle's low reaches ``stopPrice``; buy: high) must not
  trigger at placement (-2010 "Stop price would trigger immediately."). On the trigger candle the
  market is at the stop (or the open if the candle gapped past it): a limit that is marketable
  there fills at that price (taker); otherwise it rests and may fill within the same candle.
- Fees are charged in the quote currency (``commissionAsset`` = quote): a buy costs
  ``price * qty * (1 + fee)`` quote, a sell yields ``price * qty * (1 - fee)``.
- Resting orders lock funds: a buy locks ``price * qty * (1 + taker_fee)`` quote, a sell ``qty``
  base; the lock is released when the order fills, is cancelled or expires.
- A ``newClientOrderId`` equal to the id of an *open* order is rejected (-2010 "Duplicate order
  sent."), as on Binance; ids of closed orders may be reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from atb.testing.emulator.models import (
    Candle,
    EmuFill,
    EmuOrder,
    OrderEvent,
    OrderRequest,
    Quote,
    Reject,
    SymbolRules,
)

__all__ = ["MatchingEngine"]

_LIMIT_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT"})


class MatchingEngine:
    """Orders, fills and balances of one emulated spot account.

    Parameters
    ----------
    rules : mapping symbol -> SymbolRules
        Keyed by Binance symbol (``"BTCUSDT"``).
    balances : mapping currency -> Decimal
        Initial free balances.
    maker_fee, taker_fee : Decimal
        Fee ratios charged in the quote currency.

    Examples
    --------
    >>> rules = SymbolRules(pair="BTC/USDT", symbol="BTCUSDT", base="BTC", quote="USDT",
    ...                     tick=Decimal("0.01"), step=Decimal("0.001"), min_qty=Decimal("0.001"))
    >>> eng = MatchingEngine({"BTCUSDT": rules}, {"USDT": Decimal(1000)}, Decimal("0.001"),
    ...                      Decimal("0.001"))
    >>> o = eng.place(OrderRequest(symbol="BTCUSDT", side="BUY", type="MARKET", client_order_id="a",
    ...                            quantity=Decimal("0.1")), Quote(Decimal(100), Decimal("100.01")), 0)
    >>> o.status, str(eng.balance("USDT")[0])  # 1000 - 0.1 * 100.01 * 1.001
    ('FILLED', '989.988999')
    """

    def __init__(self, rules: Mapping[str, SymbolRules], balances: Mapping[str, Decimal],
                 maker_fee: Decimal, taker_fee: Decimal) -> None:
        self.rules = dict(rules)
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self._free: dict[str, Decimal] = {}
        self._locked: dict[str, Decimal] = {}
        for r in self.rules.values():
            for asset in (r.base, r.quote):
                self._free.setdefault(asset, Decimal(0))
                self._locked.setdefault(asset, Decimal(0))
        for asset, amount in balances.items():
            self._free[asset] = Decimal(amount)
            self._locked.setdefault(asset, Decimal(0))
        self.orders: list[EmuOrder] = []
        self.trades: list[EmuFill] = []
        self.events: list[OrderEvent] = []
        self._next_order_id = 1
        self._next_trade_id = 1

    # ----------------------------------------------------------------------------------- queries
    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        """``(free, locked)`` of one asset."""
        return self._free.get(asset, Decimal(0)), self._locked.get(asset, Decimal(0))

    def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        """``asset -> (free, locked)`` for every asset the account knows."""
        return {a: (self._free[a], self._locked.get(a, Decimal(0))) for a in sorted(self._free)}

    def find(self, symbol: str, order_id: int | None = None,
             client_order_id: str | None = None) -> EmuOrder:
        """The order by id or client id (the newest one with that client id).

        Raises
        ------
        Reject
            -2013 "Order does not exist." when unknown.
        """
        for order in reversed(self.orders):
            if order.symbol != symbol:
                continue
            if order_id is not None and order.order_id != order_id:
                continue
            if client_order_id is not None and order.client_order_id != client_order_id:
                continue
            return order
        raise Reject(-2013, "Order does not exist.")

    def drain_events(self) -> list[OrderEvent]:
        """Order events since the last call (for the user data stream)."""
        events, self.events = self.events, []
        return events

    # ----------------------------------------------------------------------------------- actions
    def place(self, req: OrderRequest, quote: Quote, now_ms: int) -> EmuOrder:
        """Validate, accept and (if marketable) fill one order.

        Raises
        ------
        Reject
            Filter failure (-1013), duplicate client id, would-take post-only, stop that would
            trigger immediately, insufficient balance (-2010), unsupported type (-1116).
        """
        rules = self.rules.get(req.symbol)
        if rules is None:
            raise Reject(-1121, "Invalid symbol.")
        qty = self._check_filters(req, rules, quote)
        if any(o.is_open and o.client_order_id == req.client_order_id for o in self.orders):
            raise Reject(-2010, "Duplicate order sent.")
        order = EmuOrder(order_id=self._next_order_id, client_order_id=req.client_order_id,
                         symbol=req.symbol, side=req.side, type=req.type,
                         time_in_force=req.time_in_force, price=req.price, stop_price=req.stop_price,
                         orig_qty=qty, time=now_ms, update_time=now_ms)
        take_px = quote.ask if req.side == "BUY" else quote.bid
        marketable = req.type == "MARKET" or (
            req.type in ("LIMIT", "LIMIT_MAKER") and req.price is not None
            and (req.price >= quote.ask if req.side == "BUY" else req.price <= quote.bid))
        if req.type == "LIMIT_MAKER" and marketable:
            raise Reject(-2010, "Order would immediately match and take.")
        if req.type == "STOP_LOSS_LIMIT":
            stop = req.stop_price or Decimal(0)
            last = (quote.bid + quote.ask) / 2
            if (req.side == "SELL" and last <= stop) or (req.side == "BUY" and last >= stop):
                raise Reject(-2010, "Stop price would trigger immediately.")
        if marketable:
            self._check_taker_funds(order, rules, take_px)
        else:
            self._lock(order, rules)
        self._next_order_id += 1
        self.orders.append(order)
        self.events.append(OrderEvent("NEW", order.snapshot()))
        if marketable:
            self._fill(order, rules, take_px, now_ms, maker=False)
        elif req.type == "LIMIT" and req.time_in_force in ("IOC", "FOK"):
            self._close(order, "EXPIRED", now_ms)
        return order

    def cancel(self, symbol: str, now_ms: int, order_id: int | None = None,
               client_order_id: str | None = None) -> EmuOrder:
        """Cancel an open order.

        Raises
        ------
        Reject
            -2011 "Unknown order sent." when unknown or no longer open.
        """
        try:
            order = self.find(symbol, order_id, client_order_id)
        except Reject:
            raise Reject(-2011, "Unknown order sent.") from None
        if not order.is_open:
            raise Reject(-2011, "Unknown order sent.")
        self._close(order, "CANCELED", now_ms)
        return order

    def on_candle(self, symbol: str, candle: Candle, now_ms: int) -> list[EmuOrder]:
        """Match the resting orders of ``symbol`` against a new candle; return those that filled."""
        rules = self.rules[symbol]
        filled: list[EmuOrder] = []
        for order in [o for o in self.orders if o.symbol == symbol and o.is_open]:
            price = order.price or Decimal(0)
            if order.type == "STOP_LOSS_LIMIT" and not order.triggered:
                stop = order.stop_price or Decimal(0)
                if order.side == "SELL" and candle.low <= stop:
                    trigger_px = min(candle.open, stop)
                elif order.side == "BUY" and candle.high >= stop:
                    trigger_px = max(candle.open, stop)
                else:
                    continue
                order.triggered = True
                if (price <= trigger_px) if order.side == "SELL" else (price >= trigger_px):
                    self._fill(order, rules, trigger_px, now_ms, maker=False)
                    filled.append(order)
                    continue
            hit = candle.low <= price if order.side == "BUY" else candle.high >= price
            if hit:
                self._fill(order, rules, price, now_ms, maker=True)
                filled.append(order)
        return filled

    # ----------------------------------------------------------------------------------- helpers
    def _check_filters(self, req: OrderRequest, rules: SymbolRules, quote: Quote) -> Decimal:
        if req.type in _LIMIT_TYPES:
            if req.price is None or req.price <= 0:
                raise Reject(-1013, "Filter failure: PRICE_FILTER")
            if req.price % rules.tick != 0:
                raise Reject(-1013, "Filter failure: PRICE_FILTER")
        if req.type == "STOP_LOSS_LIMIT" and (req.stop_price is None or req.stop_price % rules.tick):
            raise Reject(-1013, "Filter failure: PRICE_FILTER")
        qty = req.quantity
        if qty is None and req.type == "MARKET" and req.quote_order_qty is not None:
            px = quote.ask if req.side == "BUY" else quote.bid
            qty = rules.floor_qty(req.quote_order_qty / px)
        if qty is None:
            raise Reject(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, "
                                "or malformed.")
        if qty < rules.min_qty or qty > rules.max_qty or qty % rules.step != 0:
            raise Reject(-1013, "Filter failure: LOT_SIZE")
        ref_px = req.price if req.type in _LIMIT_TYPES and req.price else (quote.bid + quote.ask) / 2
        if qty * ref_px < rules.min_notional:
            raise Reject(-1013, "Filter failure: NOTIONAL")
        return qty

    def _check_taker_funds(self, order: EmuOrder, rules: SymbolRules, px: Decimal) -> None:
        if order.side == "BUY":
            need, asset = px * order.orig_qty * (1 + self.taker_fee), rules.quote
        else:
            need, asset = order.orig_qty, rules.base
        if self._free.get(asset, Decimal(0)) < need:
            raise Reject(-2010, "Account has insufficient balance for requested action.")

    def _lock(self, order: EmuOrder, rules: SymbolRules) -> None:
        if order.side == "BUY":
            asset = rules.quote
            amount = (order.price or Decimal(0)) * order.orig_qty * (1 + max(self.taker_fee,
                                                                               self.maker_fee))
        else:
            asset, amount = rules.base, order.orig_qty
        if self._free.get(asset, Decimal(0)) < amount:
            raise Reject(-2010, "Account has insufficient balance for requested action.")
        self._free[asset] -= amount
        self._locked[asset] = self._locked.get(asset, Decimal(0)) + amount
        order.locked = amount

    def _release(self, order: EmuOrder) -> None:
        rules = self.rules[order.symbol]
        asset = rules.quote if order.side == "BUY" else rules.base
        self._locked[asset] -= order.locked
        self._free[asset] += order.locked
        order.locked = Decimal(0)

    def _fill(self, order: EmuOrder, rules: SymbolRules, px: Decimal, now_ms: int, *,
              maker: bool) -> None:
        self._release(order)
        qty = order.orig_qty - order.executed_qty
        cost = px * qty
        fee = cost * (self.maker_fee if maker else self.taker_fee)
        if order.side == "BUY":
            self._free[rules.quote] -= cost + fee
            self._free[rules.base] += qty
        else:
            self._free[rules.base] -= qty
            self._free[rules.quote] += cost - fee
        fill = EmuFill(trade_id=self._next_trade_id, order_id=order.order_id, symbol=order.symbol,
                       price=px, qty=qty, commission=fee, commission_asset=rules.quote, time=now_ms,
                       is_buyer=order.side == "BUY", is_maker=maker)
        self._next_trade_id += 1
        order.fills.append(fill)
        order.executed_qty += qty
        order.cumm_quote += cost
        order.status = "FILLED"
        order.update_time = now_ms
        self.trades.append(fill)
        self.events.append(OrderEvent("TRADE", order.snapshot(), fill))

    def _close(self, order: EmuOrder, status: str, now_ms: int) -> None:
        self._release(order)
        order.status = status
        order.update_time = now_ms
        self.events.append(OrderEvent(status, order.snapshot()))
