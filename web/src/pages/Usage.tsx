// Usage per bot against an always-on host, and the money sleeping saved (GET .../usage), with
// each bot's host now (GET .../hosts) and the workspace's sleep policy (read, or set with
// compute:manage_sessions), read again at each compute event. The chart (Chart.js, loaded on
// demand) says what the table says.
import { type FormEvent, useEffect, useRef, useState } from "react";
import { api, call, idempotency, type Schemas } from "../api/client";
import { HostBadge, When } from "../bots";
import { useAction, useResource } from "../data";
import { useLiveEvents } from "../live";
import { Link } from "../router";
import { Empty, ErrorView, Field, FormError, Loading, Select } from "../ui";
import type { UsageBar } from "../usageChart";
import { fieldErrors } from "../words";

type Usage = Schemas["UsageOut"];
type Host = Schemas["HostOut"];
const PERIODS = [7, 30, 90] as const;
const HOUR = 3_600_000;

const path = (workspace_id: string) => ({ params: { path: { workspace_id } } });

export function UsagePage({ workspaceId }: { workspaceId: string }) {
  const [days, setDays] = useState<number>(30);
  const usage = useResource(() => {
    // The last `days` days up to the next whole hour, so a reload within the hour reads the same.
    const to = new Date(Math.ceil(Date.now() / HOUR) * HOUR);
    const from = new Date(to.getTime() - days * 24 * HOUR);
    return call(
      api.GET("/v1/workspaces/{workspace_id}/usage", {
        params: {
          path: { workspace_id: workspaceId },
          query: { from: from.toISOString(), to: to.toISOString() },
        },
      }),
    );
  }, [workspaceId, days]);
  const names = useResource(async () => {
    const page = await call(
      api.GET("/v1/workspaces/{workspace_id}/bots", {
        params: { path: { workspace_id: workspaceId }, query: { limit: 200 } },
      }),
    ).catch(() => null);
    return new Map((page?.items ?? []).map((b) => [b.bot_id, b.config.name]));
  }, [workspaceId]);
  const hosts = useResource(async () => {
    const page = await call(
      api.GET("/v1/workspaces/{workspace_id}/hosts", {
        params: { path: { workspace_id: workspaceId }, query: { limit: 200 } },
      }),
    ).catch(() => null);
    return page ? new Map(page.items.map((h) => [h.bot_id, h])) : null;
  }, [workspaceId, days]); // another period reads the hosts again too
  // A host waking or sleeping changes both the statement and the host column: read them again.
  useLiveEvents(workspaceId, ["compute."], () => {
    usage.reload();
    hosts.reload();
  });
  const nameOf = (id: string) => (names.state === "ready" ? names.data.get(id) : undefined) ?? id;
  return (
    <main>
      <h1>Usage</h1>
      <Select
        label="Period"
        name="period"
        value={String(days)}
        onChange={(e) => setDays(Number(e.target.value))}
      >
        {PERIODS.map((d) => (
          <option key={d} value={d}>
            the last {d} days
          </option>
        ))}
      </Select>
      {usage.state === "loading" && <Loading what="usage" />}
      {usage.state === "error" && <ErrorView problem={usage.problem} retry={usage.reload} />}
      {usage.state === "ready" && (
        <Statement
          workspaceId={workspaceId}
          usage={usage.data}
          nameOf={nameOf}
          hosts={hosts.state === "ready" ? hosts.data : null}
        />
      )}
      <SleepPolicy workspaceId={workspaceId} />
    </main>
  );
}

// Cents, and the API's fourth decimal where there is one (a few hours of a small host cost cents).
const usd = (amount: string) =>
  Number(amount).toLocaleString(undefined, {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: 4,
  });
const hours = (h: string) => `${Number(h).toFixed(2)} h`;

function Statement(props: {
  workspaceId: string;
  usage: Usage;
  nameOf: (id: string) => string;
  hosts: Map<string, Host> | null;
}) {
  const { usage, nameOf, hosts } = props;
  const period = (
    <p className="hint">
      From <When at={usage.from} /> to <When at={usage.to} />, counted up to <When at={usage.as_of} />;
      money in {usage.currency ?? "USD"}.
    </p>
  );
  if (usage.bots.length === 0) {
    return (
      <>
        {period}
        <Empty>No bot was hosted in this period: nothing used, nothing to save yet.</Empty>
      </>
    );
  }
  const t = usage.total;
  const summary =
    `${hours(t.compute_hours)} hosted of ${hours(t.always_on_hours)} always-on: ` +
    `${hours(t.saved_hours)} and ${usd(t.saved_cost)} saved (cost ${usd(t.cost)} against ${usd(t.always_on_cost)}).`;
  return (
    <>
      {period}
      <p className="summary">
        <strong>Saved:</strong> {summary}
      </p>
      <UsageChart
        bars={usage.bots.map((b) => ({
          label: nameOf(b.bot_id),
          hosted: Number(b.compute_hours),
          alwaysOn: Number(b.always_on_hours),
        }))}
        summary={summary}
      />
      {/* A wide table scrolls within its own region at 200% zoom; the page does not. */}
      <div className="table-scroll" role="region" aria-label="Usage per bot" tabIndex={0}>
      <table>
        <caption>Usage per bot against an always-on host</caption>
        <thead>
          <tr>
            <th scope="col">Bot</th>
            <th scope="col">Host now</th>
            <th scope="col">Hours hosted</th>
            <th scope="col">Always-on hours</th>
            <th scope="col">Hours saved</th>
            <th scope="col">Cost</th>
            <th scope="col">Always-on cost</th>
            <th scope="col">Saved</th>
          </tr>
        </thead>
        <tbody>
          {usage.bots.map((b) => {
            const host = hosts?.get(b.bot_id);
            return (
              <tr key={b.bot_id}>
                <th scope="row">
                  <Link href={`/w/${props.workspaceId}/bots/${b.bot_id}`}>{nameOf(b.bot_id)}</Link>
                  {b.provider && (
                    <span className="muted">
                      {" "}
                      ({b.provider}
                      {b.size ? ` ${b.size}` : ""})
                    </span>
                  )}
                </th>
                <td>
                  {hosts ? <HostBadge state={host?.state ?? null} /> : <span className="muted">unknown</span>}
                  {host?.next_wake_at && (
                    <span className="muted">
                      {" "}
                      next wake <When at={host.next_wake_at} />
                    </span>
                  )}
                </td>
                <td>{hours(b.compute_hours)}</td>
                <td>{hours(b.always_on_hours)}</td>
                <td>{hours(b.saved_hours)}</td>
                <td>{usd(b.cost)}</td>
                <td>{usd(b.always_on_cost)}</td>
                <td>
                  {usd(b.saved_cost)}
                  {!b.priced && <span className="muted"> (not priced)</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td />
            <td>{hours(t.compute_hours)}</td>
            <td>{hours(t.always_on_hours)}</td>
            <td>{hours(t.saved_hours)}</td>
            <td>{usd(t.cost)}</td>
            <td>{usd(t.always_on_cost)}</td>
            <td>{usd(t.saved_cost)}</td>
          </tr>
        </tfoot>
      </table>
      </div>
    </>
  );
}

function UsageChart({ bars, summary }: { bars: UsageBar[]; summary: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [failed, setFailed] = useState(false);
  // Drawn again only when the numbers change, not at every render of the page around it.
  const drawn = JSON.stringify(bars);
  useEffect(() => {
    let destroy: (() => void) | null = null;
    let live = true;
    import("../usageChart").then(
      ({ drawUsage }) => {
        if (live && canvas.current) destroy = drawUsage(canvas.current, bars);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
      destroy?.();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [drawn]);
  if (failed) return <p className="hint">The chart could not be loaded; the table has the same numbers.</p>;
  return (
    <figure className="chart">
      <div className="chart-box">
        <canvas ref={canvas} role="img" aria-label={`Bar chart of hours hosted against always-on hours per bot. ${summary}`}>
          Hours hosted against always-on hours per bot: see the table below.
        </canvas>
      </div>
      <figcaption>Hours hosted against always-on hours, per bot (the table below has the numbers).</figcaption>
    </figure>
  );
}

function SleepPolicy({ workspaceId }: { workspaceId: string }) {
  const policy = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/compute/sleep-policy", path(workspaceId))),
    [workspaceId],
  );
  const access = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/access", path(workspaceId))),
    [workspaceId],
  );
  const canSet = access.state === "ready" && access.data.permissions.includes("compute:manage_sessions");
  const save = useAction(async (minutes: string) => {
    await call(
      api.PUT("/v1/workspaces/{workspace_id}/compute/sleep-policy", {
        params: { path: { workspace_id: workspaceId }, header: idempotency() },
        body: { drain_deadline_minutes: (minutes.trim() === "" ? Number.NaN : Number(minutes)) as number },
      }),
    );
    policy.reload();
  });
  const errors = fieldErrors(save.problem);
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    void save.run(String(new FormData(e.currentTarget).get("drain_deadline_minutes") ?? ""));
  }
  return (
    <section aria-labelledby="sleep-title">
      <h2 id="sleep-title">Sleep policy</h2>
      {policy.state === "loading" && <Loading what="the sleep policy" />}
      {policy.state === "error" && <ErrorView problem={policy.problem} retry={policy.reload} />}
      {policy.state === "ready" && (
        <p>
          {policy.data.drain_deadline_minutes === 0
            ? "A bot's host is never put to sleep while it holds orders or a position."
            : `A bot's host waits at most ${policy.data.drain_deadline_minutes} minutes for its orders and position to close before it sleeps.`}{" "}
          {policy.data.set_at ? (
            <span className="muted">
              Set <When at={policy.data.set_at} />.
            </span>
          ) : (
            <span className="muted">The default: never set.</span>
          )}
        </p>
      )}
      {canSet && policy.state === "ready" && (
        <form onSubmit={submit} noValidate>
          <Field
            label="Drain deadline (minutes, 0 for none)"
            name="drain_deadline_minutes"
            inputMode="numeric"
            defaultValue={String(policy.data.drain_deadline_minutes)}
            error={errors.drain_deadline_minutes}
          />
          <FormError problem={save.problem} fields={["drain_deadline_minutes"]} />
          <button type="submit" disabled={save.busy}>
            {save.busy ? "Saving…" : "Save sleep policy"}
          </button>
        </form>
      )}
    </section>
  );
}
