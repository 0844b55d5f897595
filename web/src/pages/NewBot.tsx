// A new bot, from the browser: a name, a strategy of the library (its latest version pinned), a
// venue and symbol, paper or testnet (with a venue connection for testnet), and, if it should trade
// only in sessions, one weekly window in a time zone. It is created stopped (POST .../bots); the
// bot's page then starts it. Each problem the API finds is shown beside its field.
import { type FormEvent, useState } from "react";
import { api, call, idempotency, type Problem, type Schemas } from "../api/client";
import { VENUES, type Venue } from "../bots";
import { useAction, useResource } from "../data";
import { Link, navigate } from "../router";
import { ErrorView, Field, FormError, Loading, Select } from "../ui";

type Config = Schemas["BotConfig"];
type Day = Schemas["SessionWindow"]["days"][number];
const DAYS: [Day, string][] = [
  ["mon", "Mon"],
  ["tue", "Tue"],
  ["wed", "Wed"],
  ["thu", "Thu"],
  ["fri", "Fri"],
  ["sat", "Sat"],
  ["sun", "Sun"],
];
const ZONES: string[] = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC"];

/** The first error the API gave for a field under any of `paths` ("config.market.symbol", ...). */
function errorAt(problem: Problem | null, ...paths: string[]): string | undefined {
  const hit = problem?.errors?.find((e) => paths.some((p) => e.field === p || e.field?.startsWith(`${p}.`)));
  return hit ? (hit.message ?? "Not valid.") : undefined;
}

export function NewBotPage({ workspaceId }: { workspaceId: string }) {
  const path = { workspace_id: workspaceId };
  const strategies = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/strategies", { params: { path, query: { limit: 200 } } })),
    [workspaceId],
  );
  const connections = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/connections", { params: { path } })),
    [workspaceId],
  );
  const [sessions, setSessions] = useState(false);
  const create = useAction(async (body: Schemas["CreateBotIn"]) => {
    const bot = await call(
      api.POST("/v1/workspaces/{workspace_id}/bots", { params: { path, header: idempotency() }, body }),
    );
    navigate(`/w/${workspaceId}/bots/${bot.bot_id}`);
  });
  const { busy, problem } = create;

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (strategies.state !== "ready") return;
    const form = new FormData(e.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const chosen = strategies.data.items.find((s) => s.strategy_id === text("strategy"));
    const config: Config = {
      name: text("name"),
      strategy: { strategy_id: text("strategy"), version: chosen?.latest_version ?? 1 },
      market: { venue: text("venue") as Venue, symbol: text("symbol").toUpperCase() },
      ...(text("connection") ? { connection_id: text("connection") } : {}),
    };
    if (sessions) {
      config.sessions = {
        always_on: false,
        time_zone: text("zone"),
        end_rule: text("end_rule") as NonNullable<Config["sessions"]>["end_rule"],
        windows: [
          {
            days: DAYS.map(([d]) => d).filter((d) => form.get(`day-${d}`) === "on"),
            start: text("start"),
            end: text("end"),
            overnight: text("end") !== "" && text("end") <= text("start"),
          },
        ],
      };
    }
    void create.run({ config, mode: text("mode") === "testnet" ? "testnet" : "paper" });
  }

  if (strategies.state === "loading") return <main><Loading what="your strategies" /></main>;
  if (strategies.state === "error")
    return (
      <main>
        <h1>New bot</h1>
        <ErrorView problem={strategies.problem} retry={strategies.reload} />
      </main>
    );
  const library = strategies.data.items.filter((s) => !s.deleted);
  const owned = [
    "config.name",
    "config.strategy",
    "config.market",
    "config.connection_id",
    "config.sessions",
    "mode",
  ];
  return (
    <main className="narrow">
      <p>
        <Link href={`/w/${workspaceId}/bots`}>All bots</Link>
      </p>
      <form onSubmit={submit} noValidate aria-labelledby="new-bot-title">
        <h1 id="new-bot-title">New bot</h1>
        <p>It starts in paper mode (or on the venue&apos;s testnet), stopped; start it from its page.</p>
        {library.length === 0 ? (
          <p className="state empty">
            No strategy in this workspace&apos;s library yet: a bot runs one.{" "}
            <Link href={`/w/${workspaceId}/strategies/new`}>Make a strategy</Link> first.
          </p>
        ) : (
          <>
            <Field label="Name" name="name" error={errorAt(problem, "config.name")} />
            <Select label="Strategy" name="strategy" error={errorAt(problem, "config.strategy")}>
              {library.map((s) => (
                <option key={s.strategy_id} value={s.strategy_id}>
                  {s.name} (version {s.latest_version})
                </option>
              ))}
            </Select>
            <Select label="Venue" name="venue" defaultValue="binance" error={errorAt(problem, "config.market.venue")}>
              {VENUES.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </Select>
            <Field
              label="Symbol"
              name="symbol"
              placeholder="BTC/USDT"
              hint="BASE/QUOTE, as the venue lists it"
              error={errorAt(problem, "config.market")}
            />
            <Select label="Mode" name="mode" defaultValue="paper" error={errorAt(problem, "mode")}>
              <option value="paper">paper (simulated fills)</option>
              <option value="testnet">testnet (the venue&apos;s test exchange)</option>
            </Select>
            <Select label="Venue connection" name="connection" defaultValue="" error={errorAt(problem, "config.connection_id")}>
              <option value="">none (paper needs none)</option>
              {connections.state === "ready" &&
                connections.data.items.map((c) => (
                  <option key={c.connection_id} value={c.connection_id}>
                    {c.label} ({c.venue})
                  </option>
                ))}
            </Select>
            <div className="field">
              <label>
                <input type="checkbox" checked={sessions} onChange={(e) => setSessions(e.target.checked)} /> Trade only
                in a weekly session (its host sleeps outside it)
              </label>
            </div>
            {sessions && (
              <fieldset>
                <legend>Session</legend>
                <Select label="Time zone" name="zone" defaultValue="UTC" error={errorAt(problem, "config.sessions.time_zone")}>
                  {ZONES.map((z) => (
                    <option key={z} value={z}>
                      {z}
                    </option>
                  ))}
                </Select>
                <fieldset aria-describedby={errorAt(problem, "config.sessions.windows") ? "days-error" : undefined}>
                  <legend>Days</legend>
                  {DAYS.map(([d, label]) => (
                    <label key={d} className="inline">
                      <input type="checkbox" name={`day-${d}`} defaultChecked={!["sat", "sun"].includes(d)} /> {label}
                    </label>
                  ))}
                </fieldset>
                <Field label="From" name="start" type="time" defaultValue="09:00" />
                <Field label="Until" name="end" type="time" defaultValue="17:00" hint="Until earlier than from: overnight" />
                <Select label="At the session's end" name="end_rule" defaultValue="stop_entries">
                  <option value="stop_entries">stop new entries, keep positions</option>
                  <option value="flatten">close every position</option>
                  <option value="hold">hold (do nothing)</option>
                </Select>
                {errorAt(problem, "config.sessions") && (
                  <p id="days-error" className="field-error" role="alert">
                    {errorAt(problem, "config.sessions")}
                  </p>
                )}
              </fieldset>
            )}
            <FormError
              problem={problem}
              fields={(problem?.errors ?? [])
                .map((e) => e.field ?? "")
                .filter((f) => owned.some((p) => f === p || f.startsWith(`${p}.`)))}
            />
            <button type="submit" disabled={busy}>
              {busy ? "Creating…" : "Create bot"}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
