"""The decision loop of one bot: its events, candles and order outcomes in, order commands out.

Pure: no I/O and no clock of its own. Time is what the inputs carry (an event's ``occurred_at``,
a candle's close) plus `Decider.advance` for the passing of time with nothing arriving; the clock
is read only to tell a fresh decision from a stale one. Replaying the same inputs in the same
order gives the same commands with the same ids, which is how a restarted runtime resumes
without duplicating an order (docs/bot-runtime.md).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from plutarc_contracts import Envelope
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_contracts import market as m
from plutarc_runtime.clock import Clock
from plutarc_runtime.domain import Invalid

from ..sessions import Calendar, Window
from ..strategy import Candle, Fill, Intent, Strategy, compile
from .ids import intent_command_id, own_command_id

log = logging.getLogger(__name__)

HISTORY = 5_000
"""Closed candles kept per market and width, to warm a strategy built mid-stream."""
EPOCH_MS = timedelta(milliseconds=1)
Payload = x.PlaceOrder | x.CancelOrder | x.CancelAllOrders | x.AttachEgress | x.DetachEgress
Issue = Literal["send", "sent", "stale"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A command to send: ``at`` is the instant it was decided (a candle's close, a window's
    end, a stop), ``reason`` what decided it."""

    command_id: str
    payload: Payload
    at: datetime
    reason: str


def market_key(market: b.MarketRef) -> str:
    """The key of the market's messages on the market topics."""
    return f"{market.venue}:{market.symbol}"


def to_candle(candle: m.Candle) -> Candle:
    open_ms = (candle.opens_at - datetime(1970, 1, 1, tzinfo=candle.opens_at.tzinfo)) // EPOCH_MS
    return Candle(
        open_ms,
        float(candle.open),
        float(candle.high),
        float(candle.low),
        float(candle.close),
        float(candle.volume),
    )


def amount(value: Decimal) -> str:
    """A decimal as the wire's amount: plain digits, never an exponent."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class Decider:
    """One bot's runtime state. Feed it in time order with `bot_event`, `order_event`, `candle`
    and `advance`; each returns the commands to send now.

    ``sent`` holds the ids of commands already on the commands topic: a decision whose command is
    there is not sent again. A decision older than ``stale_after`` (by ``clock``) whose command was
    never sent is dropped, and the strategy is told its intent was cancelled."""

    def __init__(
        self,
        bot_id: str,
        *,
        clock: Clock,
        stale_after: timedelta = timedelta(minutes=2),
        sent: Iterable[str] = (),
    ) -> None:
        self.bot_id = bot_id
        self.clock = clock
        self.stale_after = stale_after
        self.sent: set[str] = set(sent)
        self.workspace_id = ""
        self.config: b.BotConfig | None = None
        self.version = 0
        self.mode: b.Mode | None = None
        self.running = False
        self.deleted = False
        self.specs: dict[tuple[str, int], b.StrategySpec] = {}
        self.strategy: Strategy | None = None
        self.positions: dict[str, Decimal] = {}
        """The bot's position in its market per mode (the gateway keeps a book per mode)."""
        self.halts: dict[str, datetime] = {}
        """Per mode: no entries before this instant (the risk gate's `entries_halted`)."""
        self.window: Window | None = None
        self.stale = 0
        """Decisions dropped because they were stale and never sent."""
        self.held_back = 0
        """Intents the rules held back: entries outside a window or while halted, exits outside
        a window under ``hold``."""
        self._calendar = Calendar(max_schedules=16, max_timelines=16)
        self._history: dict[tuple[str, str], deque[Candle]] = {}
        self._build_at: datetime | None = None
        self._since: datetime | None = None
        self._fed = -1
        self._generation = 0
        self._intents: dict[str, tuple[int, str]] = {}
        """command id -> (strategy generation, intent id)."""
        self._orders: dict[str, str] = {}
        """the gateway's order id -> command id."""

    # --- what it knows ---------------------------------------------------------------------------
    @property
    def found(self) -> bool:
        """Whether the bot's creation has been seen."""
        return self.config is not None

    @property
    def position(self) -> Decimal:
        """The position in the bot's current mode."""
        return self.positions.get(self.mode or "", Decimal(0))

    @property
    def halted_until(self) -> datetime | None:
        return self.halts.get(self.mode or "")

    @property
    def markets(self) -> set[str]:
        return set() if self.config is None else {market_key(self.config.market)}

    @property
    def timeframe(self) -> str | None:
        spec = self._spec()
        return None if spec is None else spec.timeframe

    @property
    def last_candle(self) -> int:
        """The open time (ms) of the last candle the running strategy read; -1 before any."""
        return self._fed

    def in_window(self, at: datetime) -> bool:
        w = self.window
        return w is not None and w.starts_at <= at and (w.ends_at is None or at < w.ends_at)

    # --- inputs ----------------------------------------------------------------------------------
    def bot_event(self, env: Envelope) -> list[Outgoing]:
        p, at = env.payload, env.occurred_at
        if isinstance(p, b.StrategyCreated):
            self.specs[(p.strategy_id, 1)] = p.spec
        elif isinstance(p, b.StrategyVersionPublished):
            self.specs[(p.strategy_id, p.version)] = p.spec
        if getattr(p, "bot_id", None) != self.bot_id:
            return []
        out = self.advance(at)
        if isinstance(p, b.VERSIONED):
            out += self._versioned(p, at)
        elif isinstance(p, b.BotStarted):
            self.running = True
            self._rebuild(at)
            self.window = self._next_window(at)
        elif isinstance(p, b.BotStopped):
            if self.running and self.config and self.config.sessions.end_rule == "flatten":
                out += self._flatten(at, "bot stopped")
            self.running = False
            self.strategy, self._build_at = None, None
        elif isinstance(p, b.BotDeleted):
            self.deleted, self.running = True, False
            self.strategy, self._build_at = None, None
        return out

    def _versioned(
        self, p: b.BotCreated | b.BotReconfigured | b.BotModeChanged, at: datetime
    ) -> list[Outgoing]:
        before = self.config
        self.workspace_id, self.config = p.workspace_id, p.config
        self.version, self.mode = p.version, p.mode
        if before is None or not self.running:
            return []
        if before.sessions != p.config.sessions:
            self.window = self._next_window(at)
        if before.strategy == p.config.strategy and before.market == p.config.market:
            return []  # a mode change, new limits or sessions: the strategy runs on untouched
        self._rebuild(at)
        cancel = Outgoing(
            own_command_id(self.bot_id, self.version, "reconfigured-cancel", at),
            x.CancelAllOrders(workspace_id=self.workspace_id, bot_id=self.bot_id),
            at,
            "the strategy or market changed: the previous strategy's orders are cancelled",
        )
        return [cancel] if self._issue(cancel) == "send" else []

    def order_event(self, env: Envelope) -> list[Outgoing]:
        p = env.payload
        if getattr(p, "bot_id", None) != self.bot_id:
            return []
        out = self.advance(env.occurred_at)
        if isinstance(p, x.OrderAccepted | x.OrderRejected):
            command = env.correlation_id if env.correlation_id in self._intents else p.order_id
            self._orders[p.order_id] = command
            if isinstance(p, x.OrderRejected):
                self._cancelled(p.order_id)
        elif isinstance(p, x.OrderFilled):
            intent = self._intent_of(p.order_id)
            if intent is not None and self.strategy is not None:
                fill = Fill(
                    intent_id=intent, quantity=Decimal(p.fill.quantity), price=Decimal(p.fill.price)
                )
                self.strategy.on_fill(fill)
        elif isinstance(p, x.OrderCancelled):
            self._cancelled(p.order_id)
        elif isinstance(p, x.PositionChanged):
            if self.config is not None and p.symbol == self.config.market.symbol:
                self.positions[p.mode] = Decimal(p.quantity)
        elif isinstance(p, x.EntriesHalted):
            until = self.halts.get(p.mode)
            self.halts[p.mode] = p.until if until is None else max(until, p.until)
        return out

    def candle(self, key: str, candle: m.Candle) -> list[Outgoing]:
        c = to_candle(candle)
        history = self._history.setdefault((key, candle.width), deque(maxlen=HISTORY))
        if history and c.open_time <= history[-1].open_time:
            return []  # seen already (a republished batch)
        history.append(c)
        config = self.config
        if not self.running or config is None or key != market_key(config.market):
            return []
        close = candle.opens_at + timedelta(seconds=m.CANDLE_SECONDS[candle.width])
        out = self.advance(close)
        strategy = self._strategy()
        if strategy is None or candle.width != strategy.timeframe or c.open_time <= self._fed:
            return out
        self._fed = c.open_time
        intents = strategy.on_candle(c)
        if self._since is not None and close <= self._since:
            for intent in intents:  # decided before this run began: warms the strategy only
                strategy.on_cancel(intent.id)
            return out
        for n, intent in enumerate(intents):
            out += self._act(strategy, intent, n, close)
        return out

    def add_history(self, key: str, candles: Iterable[m.Candle]) -> None:
        """Candles of a market the bot moved to, read from the topic's beginning."""
        for candle in candles:
            history = self._history.setdefault((key, candle.width), deque(maxlen=HISTORY))
            c = to_candle(candle)
            if not history or c.open_time > history[-1].open_time:
                history.append(c)

    def advance(self, now: datetime) -> list[Outgoing]:
        """Time passed up to ``now``: the end rule of every window that ended meanwhile."""
        config = self.config
        if not self.running or config is None:
            return []
        out: list[Outgoing] = []
        w = self.window
        while w is not None and w.ends_at is not None and w.ends_at <= now:
            if config.sessions.end_rule == "flatten":
                out += self._flatten(w.ends_at, "the trading window ended")
            w = self.window = self._next_window(w.ends_at)
        return out

    # --- decisions -------------------------------------------------------------------------------
    def _act(self, strategy: Strategy, intent: Intent, n: int, close: datetime) -> list[Outgoing]:
        held = self._held_back(intent.side == "buy", close)
        if held:
            strategy.on_cancel(intent.id)
            self.held_back += 1
            log.info("intent held back", extra={"bot_id": self.bot_id, "why": held})
            return []
        command = intent_command_id(self.bot_id, self.version, intent.candle_time, n)
        order = x.PlaceOrder(
            workspace_id=self.workspace_id,
            bot_id=self.bot_id,
            side=intent.side,
            type=intent.kind,
            quantity=amount(intent.quantity),
            price=None if intent.price is None else amount(intent.price),
        )
        self._intents[command] = (self._generation, intent.id)
        outgoing = Outgoing(command, order, close, intent.reason)
        issue = self._issue(outgoing)
        if issue == "stale":
            strategy.on_cancel(intent.id)
        return [outgoing] if issue == "send" else []

    def _held_back(self, entry: bool, at: datetime) -> str | None:
        assert self.config is not None
        if self.in_window(at):
            halted = self.halted_until
            if entry and halted is not None and at < halted:
                return "entries halted by the risk gate"
            return None
        if entry:
            return "outside the trading window"
        if self.config.sessions.end_rule == "hold":
            return "outside the trading window (hold)"
        return None

    def _flatten(self, at: datetime, why: str) -> list[Outgoing]:
        ws, bot = self.workspace_id, self.bot_id
        out = [
            Outgoing(
                own_command_id(bot, self.version, "flatten-cancel", at),
                x.CancelAllOrders(workspace_id=ws, bot_id=bot),
                at,
                f"flatten: {why}",
            )
        ]
        position = self.position
        if position:
            close = x.PlaceOrder(
                workspace_id=ws,
                bot_id=bot,
                side="sell" if position > 0 else "buy",
                type="market",
                quantity=amount(abs(position)),
                reduce_only=True,
            )
            out.append(
                Outgoing(
                    own_command_id(bot, self.version, "flatten-close", at),
                    close,
                    at,
                    f"flatten: {why}",
                )
            )
        self._rebuild(at)  # the strategy starts over from a flat book
        return [o for o in out if self._issue(o) == "send"]

    def _issue(self, outgoing: Outgoing) -> Issue:
        if outgoing.command_id in self.sent:
            return "sent"
        if outgoing.at < self.clock.now() - self.stale_after:
            self.stale += 1
            log.info(
                "stale decision not sent",
                extra={"bot_id": self.bot_id, "command_id": outgoing.command_id},
            )
            return "stale"
        self.sent.add(outgoing.command_id)
        return "send"

    def _intent_of(self, order_id: str) -> str | None:
        found = self._intents.get(self._orders.get(order_id, order_id))
        if found is None or found[0] != self._generation:
            return None  # not ours, or an order of a strategy since replaced
        return found[1]

    def _cancelled(self, order_id: str) -> None:
        intent = self._intent_of(order_id)
        if intent is not None and self.strategy is not None:
            self.strategy.on_cancel(intent)

    # --- the strategy ----------------------------------------------------------------------------
    def _spec(self) -> b.StrategySpec | None:
        if self.config is None:
            return None
        pin = self.config.strategy
        return self.specs.get((pin.strategy_id, pin.version))

    def _rebuild(self, at: datetime) -> None:
        """A fresh strategy from ``at``: built (and warmed on the candles closed by then) when the
        next candle needs it, acting only on candles that close after ``at``."""
        self.strategy, self._build_at = None, at
        self._generation += 1

    def _strategy(self) -> Strategy | None:
        if self.strategy is not None or self._build_at is None or self.config is None:
            return self.strategy
        spec = self._spec()
        if spec is None:
            return None  # its version's event has not arrived yet
        try:
            strategy = compile(spec, paper=False)
        except Invalid as exc:
            log.error("strategy does not compile", extra={"bot_id": self.bot_id, "error": str(exc)})
            return None
        width_ms = m.CANDLE_SECONDS[spec.timeframe] * 1000
        horizon = (self._build_at - datetime(1970, 1, 1, tzinfo=self._build_at.tzinfo)) // EPOCH_MS
        self._fed = -1
        for c in self._history.get((market_key(self.config.market), spec.timeframe), ()):
            if c.open_time + width_ms > horizon:
                break
            for intent in strategy.on_candle(c):
                strategy.on_cancel(intent.id)
            self._fed = c.open_time
        self.strategy, self._since, self._build_at = strategy, self._build_at, None
        return strategy

    def _next_window(self, at: datetime) -> Window | None:
        assert self.config is not None
        return self._calendar.next_window(self.config.sessions, at)
