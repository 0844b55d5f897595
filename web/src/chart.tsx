// A bot's market as candles with its fills marked (buy below the bar, sell above), its open
// limit orders as price lines, and its realised PnL over time as a line in a band under the
// candles (on a price scale of its own), drawn by TradingView's lightweight-charts, which is
// loaded only when a chart is first shown (its own chunk: the first load stays small).
//
// Live: a fill event's fill is added to the markers (or, when its side is not known yet, the
// newest fills are asked for and the unseen ones added); a position change of the bot's mode adds
// its PnL point; the candles are asked for again on a timer and only newer bars are updated in
// (series.update).
// Nothing is rebuilt. The figure states what it shows in words (its caption) for a screen reader,
// and carries data-candles, data-fills and data-draw-ms (the last update's time from the event
// to the frame it was drawn in) for the tests and the benchmark.
import { type MutableRefObject, useEffect, useRef, useState } from "react";
import type {
  AutoscaleInfo,
  CandlestickData,
  IChartApi,
  IPriceLine,
  ISeriesApi,
  LineData,
  ISeriesMarkersPluginApi,
  SeriesMarker,
  Time as ChartTime,
  UTCTimestamp,
} from "lightweight-charts";
import { api, asProblem, call, type Problem, type Schemas } from "./api/client";
import { Empty, ErrorView } from "./ui";

type Interval = Schemas["CandlesOut"]["interval"];
type Fill = Schemas["FillOut"];
type Candle = Schemas["CandleOut"];
type PnlPoint = Pick<Schemas["PnlPointOut"], "at" | "realised_pnl">;
type Mode = Schemas["PnlOut"]["mode"];
type Time = UTCTimestamp;

const INTERVALS: Interval[] = ["1s", "1m", "5m", "15m", "1h", "4h", "1d"];
const SECONDS: Record<Interval, number> = {
  "1s": 1,
  "1m": 60,
  "5m": 300,
  "15m": 900,
  "1h": 3600,
  "4h": 14400,
  "1d": 86400,
};
const CANDLES = 500;
export const MAX_FILLS = 10_000;
const FILLS_PAGE = 200;
const PNL_POINTS = 1000;

export type OpenOrder = { order_id: string; side: string | null; price: string | null };

type Lib = typeof import("lightweight-charts");
let lib: Promise<Lib> | null = null;
const loadLib = () => (lib ??= import("lightweight-charts"));

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** The imperative chart: what the React component drives (and the benchmark measures). */
export class FillsChart {
  private chart: IChartApi;
  private series: ISeriesApi<"Candlestick">;
  private markers: ISeriesMarkersPluginApi<ChartTime>;
  private marks: SeriesMarker<Time>[] = [];
  private byBar = new Map<string, { marker: SeriesMarker<Time>; count: number }>();
  private seen = new Set<string>();
  private lines = new Map<string, IPriceLine>();
  private pnl: ISeriesApi<"Line">;
  private lastBar = 0;
  private lastMark = 0;
  private lastPnl = 0;
  candles = 0;
  fills = { buy: 0, sell: 0 };
  pnlPoints = 0;
  realised: string | undefined;

  constructor(
    l: Lib,
    el: HTMLElement,
    private width: number,
  ) {
    const css = getComputedStyle(document.documentElement);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    this.chart = l.createChart(el, {
      autoSize: true,
      layout: {
        background: { type: l.ColorType.Solid, color: color("--panel", "#171b21") },
        textColor: color("--text", "#e6e9ee"),
        attributionLogo: true,
      },
      grid: {
        vertLines: { color: color("--line", "#2c333d") },
        horzLines: { color: color("--line", "#2c333d") },
      },
      timeScale: { timeVisible: true, secondsVisible: width < 60 },
      localization: { locale: navigator.language },
    });
    this.series = this.chart.addSeries(l.CandlestickSeries, {
      upColor: color("--ok", "#7ee2a8"),
      borderUpColor: color("--ok", "#7ee2a8"),
      wickUpColor: color("--ok", "#7ee2a8"),
      downColor: color("--danger", "#ff8080"),
      borderDownColor: color("--danger", "#ff8080"),
      wickDownColor: color("--danger", "#ff8080"),
      // The price scale takes in the open orders' lines too, so an order away from the market
      // is still on screen.
      autoscaleInfoProvider: (original: () => AutoscaleInfo | null) => {
        const found = original();
        if (!found?.priceRange || this.lines.size === 0) return found;
        let { minValue, maxValue } = found.priceRange;
        for (const line of this.lines.values()) {
          const price = line.options().price;
          minValue = Math.min(minValue, price);
          maxValue = Math.max(maxValue, price);
        }
        return { ...found, priceRange: { minValue, maxValue } };
      },
    });
    this.markers = l.createSeriesMarkers(this.series, []);
    this.series.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.3 } });
    this.pnl = this.chart.addSeries(l.LineSeries, {
      priceScaleId: "pnl",
      color: color("--accent", "#8ab4ff"),
      lineWidth: 2,
      title: "realised PnL",
    });
    this.pnl.priceScale().applyOptions({ scaleMargins: { top: 0.75, bottom: 0.02 } });
  }

  /** The realised PnL points (oldest first); one a second, the last of each, as the line needs. */
  setPnl(items: PnlPoint[]): void {
    const bySecond = new Map<number, LineData<Time>>();
    for (const p of items) {
      const time = seconds(p.at) as Time;
      bySecond.set(time, { time, value: Number(p.realised_pnl) });
    }
    const points = [...bySecond.values()].sort((a, b) => a.time - b.time);
    this.pnl.setData(points);
    this.pnlPoints = points.length;
    this.lastPnl = points.length ? points[points.length - 1]!.time : 0;
    this.realised = items.length ? items[items.length - 1]!.realised_pnl : undefined;
  }

  /** A newer PnL point drawn in (one older than the last is skipped); whether it was. */
  addPnl(p: PnlPoint): boolean {
    const time = seconds(p.at) as Time;
    if (time < this.lastPnl) return false;
    if (time > this.lastPnl || this.pnlPoints === 0) this.pnlPoints += 1;
    this.pnl.update({ time, value: Number(p.realised_pnl) });
    this.lastPnl = time;
    this.realised = p.realised_pnl;
    return true;
  }

  private bar(c: Candle): CandlestickData<Time> {
    return {
      time: seconds(c.opens_at) as Time,
      open: Number(c.open),
      high: Number(c.high),
      low: Number(c.low),
      close: Number(c.close),
    };
  }

  setCandles(items: Candle[]): void {
    const bars = items.map((c) => this.bar(c));
    this.series.setData(bars);
    this.candles = bars.length;
    this.lastBar = bars.length ? bars[bars.length - 1]!.time : 0;
    this.fit();
  }

  /** Few bars fill the width; many keep their spacing, the newest at the right edge. */
  private fit(): void {
    if (this.candles < 120) this.chart.timeScale().fitContent();
  }

  /** Newer candles (oldest first) drawn in; those older than the last bar are skipped. */
  updateCandles(items: Candle[]): number {
    let added = 0;
    for (const c of items) {
      const bar = this.bar(c);
      if (bar.time < this.lastBar) continue;
      if (bar.time > this.lastBar) added += 1;
      this.series.update(bar);
      this.lastBar = bar.time;
    }
    this.candles += added;
    if (added > 0) this.fit();
    return added;
  }

  /** Fills not seen before are marked at the bar of their interval: one marker per bar and side,
   * with the count when more than one (10,000 fills are at most two markers a bar, and a bar's
   * twentieth fill changes a label, not the layout). Returns how many fills were new. */
  addFills(items: Fill[]): number {
    const fresh = items.filter((f) => !this.seen.has(f.fill_id));
    if (fresh.length === 0) return 0;
    let unordered = false;
    for (const f of fresh) {
      this.seen.add(f.fill_id);
      const at = seconds(f.at);
      const time = (at - (at % this.width)) as Time;
      const buy = f.side !== "sell";
      this.fills[buy ? "buy" : "sell"] += 1;
      const key = `${time}:${buy ? "b" : "s"}`;
      const known = this.byBar.get(key);
      if (known) {
        known.count += 1;
        known.marker.text = String(known.count);
        continue;
      }
      if (time < this.lastMark) unordered = true;
      this.lastMark = Math.max(this.lastMark, time);
      const marker: SeriesMarker<Time> = {
        id: key,
        time,
        position: buy ? "belowBar" : "aboveBar",
        shape: buy ? "arrowUp" : "arrowDown",
        color: buy ? "#7ee2a8" : "#ff8080",
        size: 1,
      };
      this.byBar.set(key, { marker, count: 1 });
      this.marks.push(marker);
    }
    if (unordered) this.marks.sort((a, b) => a.time - b.time);
    this.markers.setMarkers(this.marks);
    return fresh.length;
  }

  get markerCount(): number {
    return this.marks.length;
  }

  /** One price line per open limit order; the others removed. */
  setOrders(orders: OpenOrder[]): void {
    const wanted = new Map(orders.filter((o) => o.price !== null).map((o) => [o.order_id, o]));
    for (const [id, line] of this.lines) {
      if (!wanted.has(id)) {
        this.series.removePriceLine(line);
        this.lines.delete(id);
      }
    }
    for (const [id, o] of wanted) {
      if (this.lines.has(id)) continue;
      const buy = o.side !== "sell";
      this.lines.set(
        id,
        this.series.createPriceLine({
          price: Number(o.price),
          color: buy ? "#7ee2a8" : "#ff8080",
          lineWidth: 1,
          lineStyle: 2,
          axisLabelVisible: true,
          title: `${o.side ?? "order"} limit`,
        }),
      );
    }
  }

  get fillCount(): number {
    return this.fills.buy + this.fills.sell;
  }

  remove(): void {
    this.chart.remove();
  }
}

/** Resolves on the frame after the one a change was made in: by then it has been drawn. */
export const drawn = () =>
  new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));

async function newestFills(
  workspaceId: string,
  botId: string,
  limit: number,
  cursor?: string,
): Promise<Schemas["FillPage"]> {
  return call(
    api.GET("/v1/workspaces/{workspace_id}/bots/{bot_id}/fills", {
      params: {
        path: { workspace_id: workspaceId, bot_id: botId },
        query: cursor ? { limit, cursor } : { limit },
      },
    }),
  );
}

async function pnlOf(workspaceId: string, botId: string, mode: Mode) {
  return call(
    api.GET("/v1/workspaces/{workspace_id}/bots/{bot_id}/pnl", {
      params: {
        path: { workspace_id: workspaceId, bot_id: botId },
        query: { limit: PNL_POINTS, mode },
      },
    }),
  );
}

async function candlesOf(workspaceId: string, botId: string, interval: Interval, limit: number) {
  return call(
    api.GET("/v1/workspaces/{workspace_id}/bots/{bot_id}/candles", {
      params: { path: { workspace_id: workspaceId, bot_id: botId }, query: { interval, limit } },
    }),
  );
}

type Summary = {
  candles: number;
  markers: number;
  buys: number;
  sells: number;
  first?: string;
  last?: string;
  close?: string;
  pnlPoints: number;
  realised?: string;
};

/** What the page hands the chart's live handler: each live event's type and data. */
export type ChartEvents = MutableRefObject<((type: string, data?: string) => void) | null>;

type LiveFill = {
  bot_id?: string;
  order_id?: string;
  side?: string;
  status?: string;
  fill?: Omit<Fill, "order_id" | "side">;
  mode?: string;
  symbol?: string;
  realised_pnl?: string;
};

/** A live event's time and payload (`after` in its data), or undefined when it is not JSON. */
function parsed(data: string): { at?: string; after?: LiveFill } | undefined {
  try {
    const frame = JSON.parse(data) as { occurred_at?: string; after?: LiveFill };
    return { at: frame.occurred_at, after: frame.after };
  } catch {
    return undefined;
  }
}

/** The chart of a bot's candles, fills and realised PnL (of `mode`, the bot's mode now: another
 * mode's line when it is toggled). The page passes its live events on through `events`;
 * `openOrders` are drawn as price lines. */
export function BotChart(props: {
  workspaceId: string;
  botId: string;
  market: string;
  mode: Mode;
  events: ChartEvents;
  openOrders: OpenOrder[];
}) {
  const { workspaceId, botId } = props;
  const [interval, setInterval_] = useState<Interval>("1m");
  const box = useRef<HTMLDivElement>(null);
  const figure = useRef<HTMLElement>(null);
  const chart = useRef<FillsChart | null>(null);
  const [state, setState] = useState<"loading" | "ready" | "error">("loading");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [summary, setSummary] = useState<Summary>({
    candles: 0,
    markers: 0,
    buys: 0,
    sells: 0,
    pnlPoints: 0,
  });
  const pnlMode = useRef<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  /** The summary from the chart's counts; `candles` newly drawn (oldest first) move its span,
   * and `fresh` starts it again (another interval). */
  const publish = (c: FillsChart, candles: Candle[] = [], fresh = false) =>
    setSummary((s) => {
      const first = candles[0];
      const last = candles[candles.length - 1];
      return {
        candles: c.candles,
        markers: c.markerCount,
        buys: c.fills.buy,
        sells: c.fills.sell,
        first: (fresh ? undefined : s.first) ?? first?.opens_at,
        last: last?.opens_at ?? (fresh ? undefined : s.last),
        close: last?.close ?? (fresh ? undefined : s.close),
        pnlPoints: c.pnlPoints,
        realised: c.realised,
      };
    });

  // Build the chart and read what it starts with: candles, then the fills, newest page first.
  useEffect(() => {
    let live = true;
    const started = performance.now();
    setState("loading");
    (async () => {
      try {
        const [l, page, pnl] = await Promise.all([
          loadLib(),
          candlesOf(workspaceId, botId, interval, CANDLES),
          pnlOf(workspaceId, botId, props.mode),
        ]);
        if (!live || !box.current) return;
        const c = new FillsChart(l, box.current, SECONDS[interval]);
        chart.current = c;
        c.setCandles(page.items);
        c.setPnl(pnl.items);
        pnlMode.current = `${pnl.mode} ${pnl.symbol}`;
        let cursor: string | undefined;
        const fills: Fill[] = [];
        do {
          const got = await newestFills(workspaceId, botId, FILLS_PAGE, cursor);
          if (!live) return;
          fills.push(...got.items);
          cursor = got.next_cursor ?? undefined;
        } while (cursor && fills.length < MAX_FILLS);
        c.addFills(fills.reverse());
        await drawn();
        if (!live) return;
        figure.current?.setAttribute("data-load-ms", (performance.now() - started).toFixed(1));
        publish(c, page.items, true);
        setState("ready");
      } catch (error) {
        if (!live) return;
        setProblem(asProblem(error));
        setState("error");
      }
    })();
    return () => {
      live = false;
      chart.current?.remove();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [workspaceId, botId, interval, attempt, props.mode]);

  // Live: a fill event carries the fill (its side from the order's acceptance, seen live or
  // among the open orders); without it, the newest page of fills is asked for. Timed until drawn.
  const sides = useRef(new Map<string, string>());
  const orders = useRef(props.openOrders);
  orders.current = props.openOrders;
  useEffect(() => {
    const timed = async (started: number, add: (c: FillsChart) => Promise<number> | number) => {
      const c = chart.current;
      if (!c || (await add(c)) === 0 || c !== chart.current) return;
      await drawn();
      figure.current?.setAttribute("data-draw-ms", (performance.now() - started).toFixed(1));
      publish(c);
    };
    const newest = async (c: FillsChart) => {
      const page = await newestFills(workspaceId, botId, 50).catch(() => null);
      return page ? c.addFills([...page.items].reverse()) : 0;
    };
    props.events.current = (type, data) => {
      const started = performance.now();
      const about =
        type === "exchange.order_accepted" ||
        type === "exchange.order_filled" ||
        type === "exchange.position_changed";
      const frame = about && data ? parsed(data) : undefined;
      const after = frame?.after;
      if (after?.bot_id !== undefined && after.bot_id !== botId) return; // the workspace's other bots
      if (type === "exchange.position_changed") {
        // The chart's mode and market only (a point of another mode is not this line's).
        if (frame?.at && after?.realised_pnl && pnlMode.current === `${after.mode} ${after.symbol}`) {
          const point = { at: frame.at, realised_pnl: after.realised_pnl };
          void timed(started, (c) => (c.addPnl(point) ? 1 : 0));
        }
      } else if (type === "exchange.order_accepted" && after?.order_id && after.side) {
        sides.current.set(after.order_id, after.side);
      } else if (type === "exchange.order_filled" && after?.fill && after.order_id) {
        const order = after.order_id;
        const side = sides.current.get(order) ?? orders.current.find((o) => o.order_id === order)?.side;
        const fill = after.fill;
        if (after.status === "filled") sides.current.delete(order); // kept while the order is open
        void timed(started, (c) =>
          side ? c.addFills([{ ...fill, order_id: order, side: side as Fill["side"] }]) : newest(c),
        );
      } else if (type === "stream.opened" || type === "exchange.order_filled") {
        void timed(started, newest);
      }
    };
    return () => {
      props.events.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [workspaceId, botId]);

  // Newer candles, asked for once per interval (at least every 10 s, at most every 2 s).
  useEffect(() => {
    if (state !== "ready") return;
    const every = Math.min(10, Math.max(2, SECONDS[interval])) * 1000;
    const timer = window.setInterval(() => {
      void candlesOf(workspaceId, botId, interval, 5)
        .then((page) => {
          const c = chart.current;
          if (!c) return;
          const before = c.candles;
          c.updateCandles(page.items);
          if (c.candles !== before) publish(c, page.items);
        })
        .catch(() => undefined);
    }, every);
    return () => window.clearInterval(timer);
  }, [state, workspaceId, botId, interval]);

  useEffect(() => {
    if (state === "ready") chart.current?.setOrders(props.openOrders);
  }, [state, props.openOrders]);

  const fills = summary.buys + summary.sells;
  const lines = props.openOrders.filter((o) => o.price !== null).length;
  return (
    <section aria-labelledby="chart-title">
      <h2 id="chart-title">Chart</h2>
      <div className="chart-controls">
        <label htmlFor="chart-interval">Interval</label>
        <select
          id="chart-interval"
          value={interval}
          onChange={(e) => setInterval_(e.target.value as Interval)}
        >
          {INTERVALS.map((i) => (
            <option key={i} value={i}>
              {i}
            </option>
          ))}
        </select>
      </div>
      {state === "error" && problem && (
        <ErrorView problem={problem} retry={() => setAttempt((a) => a + 1)} />
      )}
      <figure
        ref={figure}
        className="chart"
        data-state={state}
        data-candles={summary.candles}
        data-fills={fills}
        data-markers={summary.markers}
        data-pnl-points={summary.pnlPoints}
        aria-busy={state === "loading"}
      >
        <div ref={box} className="chart-canvas" />
        <figcaption id="chart-summary">
          {state === "loading" && "Loading the chart…"}
          {state === "ready" &&
            `${props.market}, ${interval} candles: ${summary.candles} shown` +
              (summary.first && summary.last
                ? ` from ${new Date(summary.first).toLocaleString()} to ${new Date(summary.last).toLocaleString()}, last close ${summary.close}`
                : "") +
              `. ${fills} fill${fills === 1 ? "" : "s"} marked (${summary.buys} buy, ${summary.sells} sell)` +
              `; ${lines === 1 ? "1 open limit order drawn as a line" : `${lines} open limit orders drawn as lines`}. ` +
              (summary.realised === undefined
                ? "No realised PnL yet."
                : `Realised PnL ${summary.realised} (fees included), ${summary.pnlPoints} point${summary.pnlPoints === 1 ? "" : "s"} drawn under the candles.`)}
          {state === "error" && "The chart could not be loaded."}
        </figcaption>
      </figure>
      {state === "ready" && summary.candles === 0 && (
        <Empty>No candles yet for this market at {interval}: they appear as trades close windows.</Empty>
      )}
    </section>
  );
}
