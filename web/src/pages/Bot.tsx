// One bot: its market's candles with its fills and open orders on a chart (chart.tsx), the
// configuration version in force and its session windows, its host, position and PnL, recent
// orders and fills; start and stop, and the mode toggle (live asks for the bot's name
// typed out). Only the controls the caller's permissions allow are shown; the API decides.
import { type FormEvent, useMemo, useRef, useState } from "react";
import { api, call, idempotency, type Schemas } from "../api/client";
import { HostBadge, type Mode, ModeBadge, When } from "../bots";
import { BotChart, type ChartEvents } from "../chart";
import { useAction, useResource } from "../data";
import { useLiveEvents } from "../live";
import { OrderForm } from "../orderForm";
import { Link } from "../router";
import { WeekTimeline } from "../timeline";
import { Empty, ErrorView, Field, Loading } from "../ui";
import { inWords } from "../words";

type Bot = Schemas["BotDetailOut"];
const RECENT = 20;
const MODES: Mode[] = ["paper", "testnet", "live"];

export function BotPage({ workspaceId, botId }: { workspaceId: string; botId: string }) {
  const params = { params: { path: { workspace_id: workspaceId, bot_id: botId } } };
  const bot = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/bots/{bot_id}", params)),
    [workspaceId, botId],
  );
  const access = useResource(
    () =>
      call(
        api.GET("/v1/workspaces/{workspace_id}/access", {
          params: { path: { workspace_id: workspaceId } },
        }),
      ),
    [workspaceId],
  );
  const host = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/bots/{bot_id}/host", params)),
    [workspaceId, botId],
  );
  const positions = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/bots/{bot_id}/positions", params)),
    [workspaceId, botId],
  );
  const recent = { params: { ...params.params, query: { limit: RECENT } } };
  const orders = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/bots/{bot_id}/orders", recent)),
    [workspaceId, botId],
  );
  const fills = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/bots/{bot_id}/fills", recent)),
    [workspaceId, botId],
  );
  const chartEvents: ChartEvents = useRef(null);
  useLiveEvents(workspaceId, ["bots.", "compute.", "exchange."], (type, data) => {
    chartEvents.current?.(type, data);
    if (type === "stream.opened" || type.startsWith("bots.")) bot.reload();
    if (type === "stream.opened" || type.startsWith("compute.")) host.reload();
    if (type === "stream.opened" || type.startsWith("exchange.")) {
      positions.reload();
      orders.reload();
      fills.reload();
    }
  });

  const openOrders = useMemo(
    () =>
      orders.state === "ready"
        ? orders.data.items
            .filter((o) => o.type === "limit" && (o.status === "open" || o.status === "partially_filled"))
            .map((o) => ({ order_id: o.order_id, side: o.side, price: o.price }))
        : [],
    [orders],
  );
  if (bot.state === "loading")
    return (
      <main>
        <Loading what="the bot" />
      </main>
    );
  if (bot.state === "error")
    return (
      <main>
        <h1>Bot</h1>
        <ErrorView problem={bot.problem} retry={bot.reload} />
      </main>
    );
  const b = bot.data;
  const zone = b.config.sessions?.time_zone;
  const may = (p: string) => access.state === "ready" && access.data.permissions.includes(p);
  return (
    <main>
      <p>
        <Link href={`/w/${workspaceId}/bots`}>All bots</Link>
        {may("support:create") && (
          <>
            {" · "}
            <Link href={`/w/${workspaceId}/support?bot=${encodeURIComponent(botId)}`}>
              Ask support about this bot
            </Link>
          </>
        )}
      </p>
      <h1>{b.name}</h1>
      <p className="facts-line">
        <ModeBadge mode={b.mode} /> <span className={`status state-${b.state}`}>{b.state}</span>{" "}
        <span className="muted">
          {b.config.market.symbol} on {b.config.market.venue}
        </span>
      </p>
      {(may("bots:start_stop") || may("trading:paper")) && (
        <Controls
          workspaceId={workspaceId}
          bot={b}
          canStartStop={may("bots:start_stop")}
          modes={MODES.filter((m) => (m === "live" ? may("trading:live") : may("trading:paper")))}
          changed={bot.reload}
        />
      )}
      <BotChart
        workspaceId={workspaceId}
        botId={botId}
        market={`${b.config.market.symbol} on ${b.config.market.venue}`}
        mode={b.mode}
        events={chartEvents}
        openOrders={openOrders}
      />
      <Configuration bot={b} />
      {b.mode !== "live" && may("trading:paper") && (
        <OrderForm workspaceId={workspaceId} botId={botId} mode={b.mode} />
      )}
      <section aria-labelledby="host-title">
        <h2 id="host-title">Host</h2>
        {host.state === "loading" && <Loading what="the host" />}
        {host.state === "error" &&
          (host.problem.code === "compute.host_not_found" ? (
            <Empty>No host yet: it is made when the bot first wakes.</Empty>
          ) : (
            <ErrorView problem={host.problem} retry={host.reload} />
          ))}
        {host.state === "ready" && (
          <dl>
            <dt>State</dt>
            <dd>
              <HostBadge state={host.data.state} />
            </dd>
            <dt>Next wake</dt>
            <dd>
              <When at={host.data.next_wake_at} zone={zone} />
            </dd>
            <dt>Since</dt>
            <dd>
              <When at={host.data.changed_at} zone={zone} />
            </dd>
            {host.data.last_error && (
              <>
                <dt>Last error</dt>
                <dd>{host.data.last_error}</dd>
              </>
            )}
          </dl>
        )}
      </section>
      <section aria-labelledby="position-title">
        <h2 id="position-title">Position and PnL</h2>
        {positions.state === "loading" && <Loading what="positions" />}
        {positions.state === "error" && (
          <ErrorView problem={positions.problem} retry={positions.reload} />
        )}
        {positions.state === "ready" &&
          (positions.data.items.length === 0 ? (
            <Empty>No position yet.</Empty>
          ) : (
            <table>
              <caption className="sr-only">Positions of this bot</caption>
              <thead>
                <tr>
                  <th scope="col">Symbol</th>
                  <th scope="col">Mode</th>
                  <th scope="col">Quantity</th>
                  <th scope="col">Average price</th>
                  <th scope="col">Realised PnL</th>
                  <th scope="col">Fees</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {positions.data.items.map((p) => (
                  <tr key={`${p.mode}-${p.symbol}`}>
                    <td>{p.symbol}</td>
                    <td>
                      <ModeBadge mode={p.mode} />
                    </td>
                    <td>{p.quantity}</td>
                    <td>{p.average_price}</td>
                    <td>{p.realised_pnl}</td>
                    <td>{p.fees_paid}</td>
                    <td>
                      <When at={p.updated_at} zone={zone} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
      <section aria-labelledby="orders-title">
        <h2 id="orders-title">Recent orders</h2>
        {orders.state === "loading" && <Loading what="orders" />}
        {orders.state === "error" && <ErrorView problem={orders.problem} retry={orders.reload} />}
        {orders.state === "ready" &&
          (orders.data.items.length === 0 ? (
            <Empty>No orders yet.</Empty>
          ) : (
            <table>
              <caption className="sr-only">The bot's most recent orders</caption>
              <thead>
                <tr>
                  <th scope="col">Placed</th>
                  <th scope="col">Side</th>
                  <th scope="col">Type</th>
                  <th scope="col">Quantity</th>
                  <th scope="col">Price</th>
                  <th scope="col">Filled</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {orders.data.items.map((o) => (
                  <tr key={o.order_id}>
                    <td>
                      <When at={o.created_at} zone={zone} />
                    </td>
                    <td>{o.side ?? "—"}</td>
                    <td>{o.type ?? "—"}</td>
                    <td>{o.quantity ?? "—"}</td>
                    <td>{o.price ?? "market"}</td>
                    <td>{o.filled}</td>
                    <td>
                      <span className="status">{o.status.replace("_", " ")}</span>
                      {o.reason && <span className="muted"> {o.reason}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
      <section aria-labelledby="fills-title">
        <h2 id="fills-title">Recent fills</h2>
        {fills.state === "loading" && <Loading what="fills" />}
        {fills.state === "error" && <ErrorView problem={fills.problem} retry={fills.reload} />}
        {fills.state === "ready" &&
          (fills.data.items.length === 0 ? (
            <Empty>No fills yet.</Empty>
          ) : (
            <table>
              <caption className="sr-only">The bot's most recent fills</caption>
              <thead>
                <tr>
                  <th scope="col">At</th>
                  <th scope="col">Side</th>
                  <th scope="col">Quantity</th>
                  <th scope="col">Price</th>
                  <th scope="col">Fee</th>
                  <th scope="col">Liquidity</th>
                </tr>
              </thead>
              <tbody>
                {fills.data.items.map((f) => (
                  <tr key={f.fill_id}>
                    <td>
                      <When at={f.at} zone={zone} />
                    </td>
                    <td>{f.side ?? "—"}</td>
                    <td>{f.quantity}</td>
                    <td>{f.price}</td>
                    <td>
                      {f.fee} {f.fee_currency}
                    </td>
                    <td>{f.liquidity}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
    </main>
  );
}

const END_RULE = {
  stop_entries: "stop new entries",
  flatten: "flatten the position",
  hold: "hold the position",
};

function Configuration({ bot }: { bot: Bot }) {
  const sessions = bot.config.sessions;
  const zone = sessions?.time_zone;
  return (
    <section aria-labelledby="config-title">
      <h2 id="config-title">Configuration</h2>
      <dl>
        <dt>Version in force</dt>
        <dd>
          {bot.version}{" "}
          <span className="muted">
            · changed <When at={bot.updated_at} zone={zone} />
          </span>
        </dd>
        <dt>Strategy</dt>
        <dd>
          <code>{bot.config.strategy.strategy_id}</code> version {bot.config.strategy.version}
        </dd>
        <dt>Venue connection</dt>
        <dd>{bot.config.connection_id ?? <span className="muted">none (paper only)</span>}</dd>
        <dt>Sessions</dt>
        <dd>
          {!sessions || sessions.always_on ? (
            "Always on"
          ) : (
            <>
              In {sessions.time_zone}; at a window's end,{" "}
              {END_RULE[sessions.end_rule ?? "stop_entries"]}.
              <WeekTimeline sessions={sessions} />
            </>
          )}
        </dd>
        {bot.window && (
          <>
            <dt>Trading window</dt>
            <dd>
              <When at={bot.window.starts_at} zone={zone} /> to{" "}
              {bot.window.ends_at ? <When at={bot.window.ends_at} zone={zone} /> : "open-ended"}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

function Controls(props: {
  workspaceId: string;
  bot: Bot;
  canStartStop: boolean;
  modes: Mode[];
  changed: () => void;
}) {
  const { bot } = props;
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const path = { workspace_id: props.workspaceId, bot_id: bot.bot_id };
  const action = useAction(async (run: () => Promise<unknown>) => {
    await run();
    setConfirming(false);
    setTyped("");
    props.changed();
  });
  const { busy, problem } = action;
  const act = action.run;
  const startStop = () =>
    act(() => {
      const params = { params: { path, header: idempotency() } };
      return bot.state === "running"
        ? call(api.POST("/v1/workspaces/{workspace_id}/bots/{bot_id}/stop", params))
        : call(api.POST("/v1/workspaces/{workspace_id}/bots/{bot_id}/start", params));
    });
  const switchTo = (mode: Mode) =>
    act(() =>
      call(
        api.POST("/v1/workspaces/{workspace_id}/bots/{bot_id}/mode", {
          params: { path, header: idempotency() },
          body: {
            mode,
            expected_version: bot.version,
            ...(mode === "live" ? { confirm_live: true } : {}),
          },
        }),
      ),
    );
  const confirmLive = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (typed === bot.name) void switchTo("live");
  };
  const others = props.modes.filter((m) => m !== bot.mode);
  return (
    <section aria-labelledby="controls-title">
      <h2 id="controls-title">Controls</h2>
      {problem && (
        <p className="form-error" role="alert">
          {inWords(problem)}
        </p>
      )}
      <div className="actions">
        {props.canStartStop && (
          <button type="button" disabled={busy} onClick={() => void startStop()}>
            {bot.state === "running" ? "Stop" : "Start"}
          </button>
        )}
        {others.map((m) =>
          m === "live" ? (
            <button
              key={m}
              type="button"
              className="danger"
              disabled={busy}
              onClick={() => setConfirming(true)}
            >
              Switch to live…
            </button>
          ) : (
            <button key={m} type="button" disabled={busy} onClick={() => void switchTo(m)}>
              Switch to {m}
            </button>
          ),
        )}
      </div>
      {confirming && (
        <form className="notice" onSubmit={confirmLive} noValidate>
          <p>
            Live trades real money through the venue connection. Type the bot's name,{" "}
            <strong>{bot.name}</strong>, to confirm.
          </p>
          <Field
            label="Bot name, to confirm live"
            value={typed}
            autoComplete="off"
            onChange={(e) => setTyped(e.target.value)}
          />
          <div className="actions">
            <button type="submit" className="danger" disabled={busy || typed !== bot.name}>
              Switch to live
            </button>
            <button
              type="button"
              onClick={() => {
                setConfirming(false);
                setTyped("");
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
