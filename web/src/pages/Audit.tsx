// The workspace's audit log (audit:read: managers, admins, owners): who changed what and when,
// newest (or oldest) first, a page at a time, filtered by who, what and when; and its members, invitations
// and API tokens as they were at an instant ("as of"). Anyone else is told why, with no table.
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { api, call, type Schemas } from "../api/client";
import { changes, describe, KNOWN_ACTIONS, type People, who } from "../audit";
import { viewerZone, When } from "../bots";
import { useAction, usePages, useResource } from "../data";
import { Empty, ErrorView, Field, FormError, Loading, Pager, Select } from "../ui";
import { fieldErrors } from "../words";

type Order = "newest" | "oldest";
type Filters = {
  actor?: string;
  action?: string;
  since?: string;
  until?: string;
  limit: number;
  order?: Order; // newest first unless "oldest"
};

/** A datetime-local value (the viewer's zone) as an instant with its zone, or undefined. */
function instant(value: FormDataEntryValue | null): string | undefined {
  const text = String(value ?? "").trim();
  if (!text) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? text : at.toISOString();
}

/** An instant as a datetime-local value in the viewer's zone (to the second). */
function localValue(iso: string | undefined): string {
  if (!iso) return "";
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const two = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

const KEYS = ["actor", "action", "since", "until"] as const;

/** The filters in the address (`?actor=user:…&since=…`), so that a reload or a link keeps them. */
function filtersFromAddress(): Filters {
  const q = new URLSearchParams(location.search);
  const f: Filters = { limit: Number(q.get("limit")) || 50 };
  if (q.get("order") === "oldest") f.order = "oldest";
  for (const k of KEYS) {
    const v = q.get(k);
    if (v) f[k] = v;
  }
  return f;
}

function address(f: Filters): string {
  const q = new URLSearchParams();
  for (const k of KEYS) if (f[k]) q.set(k, f[k]!);
  if (f.limit !== 50) q.set("limit", String(f.limit));
  if (f.order === "oldest") q.set("order", "oldest");
  const text = q.toString();
  return `${location.pathname}${text ? `?${text}` : ""}`;
}

export function AuditPage({ workspaceId }: { workspaceId: string }) {
  const access = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/access", { params: { path: { workspace_id: workspaceId } } })),
    [workspaceId],
  );
  return (
    <main>
      <h1>Audit log</h1>
      {access.state === "loading" && <Loading what="your access" />}
      {access.state === "error" && <ErrorView problem={access.problem} retry={access.reload} />}
      {access.state === "ready" &&
        (access.data.permissions.includes("audit:read") ? (
          <Audit workspaceId={workspaceId} />
        ) : (
          <Empty>
            A {access.data.role} cannot read this workspace&apos;s audit log: it needs the audit:read
            permission (managers, admins and owners).
          </Empty>
        ))}
    </main>
  );
}

function Audit({ workspaceId }: { workspaceId: string }) {
  const path = { workspace_id: workspaceId };
  const [filters, setFilters] = useState<Filters>(filtersFromAddress);
  const [formKey, setFormKey] = useState(0);
  useEffect(() => history.replaceState(history.state, "", address(filters)), [filters]);
  const pages = usePages();
  const members = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/members", { params: { path } })),
    [workspaceId],
  );
  const people: People = useMemo(
    () =>
      new Map(
        members.state === "ready" ? members.data.map((m) => [m.user_id, m.display_name || m.email || m.user_id]) : [],
      ),
    [members],
  );
  // The filters' problem (a field the API refused) is shown beside that field.
  const log = useResource(
    () =>
      call(
        api.GET("/v1/workspaces/{workspace_id}/audit", {
          params: {
            path,
            query: {
              limit: filters.limit,
              order: filters.order ?? "newest",
              ...(filters.actor ? { actor: filters.actor } : {}),
              ...(filters.action ? { action: filters.action } : {}),
              ...(filters.since ? { since: filters.since } : {}),
              ...(filters.until ? { until: filters.until } : {}),
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
            },
          },
        }),
      ),
    [workspaceId, JSON.stringify(filters), pages.cursor],
  );
  const errors = fieldErrors(log.state === "error" ? log.problem : null);
  const fieldOwned = Object.keys(errors).length > 0;

  function apply(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const f: Filters = {
      actor: String(form.get("actor") ?? "") || undefined,
      action: String(form.get("action") ?? "").trim() || undefined,
      since: instant(form.get("since")),
      until: instant(form.get("until")),
      limit: Number(form.get("limit") ?? 50),
      ...(form.get("order") === "oldest" ? { order: "oldest" as const } : {}),
    };
    setFilters(f);
    pages.reset();
    if (JSON.stringify(f) === JSON.stringify(filters)) log.reload();
  }

  return (
    <>
      <section aria-labelledby="filters-title">
        <h2 id="filters-title">Filters</h2>
        {/* Remade when the members arrive (the Who select's default needs its options) and on Clear. */}
        <form onSubmit={apply} key={`${members.state}-${formKey}`} noValidate className="grid">
          <Select label="Who" name="actor" defaultValue={filters.actor ?? ""} error={errors.actor}>
            <option value="">Anyone</option>
            {members.state === "ready" &&
              members.data.map((m) => (
                <option key={m.user_id} value={`user:${m.user_id}`}>
                  {m.display_name || m.email}
                </option>
              ))}
          </Select>
          <Field
            label="What (event type)"
            name="action"
            list="audit-actions"
            placeholder="any"
            defaultValue={filters.action ?? ""}
            error={errors.action}
          />
          <datalist id="audit-actions">
            {KNOWN_ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <Field
            label="From"
            name="since"
            type="datetime-local"
            step="1"
            defaultValue={localValue(filters.since)}
            error={errors.since}
          />
          <Field
            label="Until"
            name="until"
            type="datetime-local"
            step="1"
            defaultValue={localValue(filters.until)}
            error={errors.until}
          />
          <Select label="Order" name="order" defaultValue={filters.order ?? "newest"} error={errors.order}>
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
          </Select>
          <Select label="Entries per page" name="limit" defaultValue={String(filters.limit)} error={errors.limit}>
            {[10, 25, 50, 100, 200].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </Select>
          <div className="actions">
            <button type="submit">
              Apply filters
            </button>
            <button
              type="button"
              onClick={() => {
                setFilters({ limit: 50 });
                pages.reset();
                setFormKey((k) => k + 1);
              }}
            >
              Clear
            </button>
          </div>
        </form>
      </section>
      <section aria-labelledby="log-title">
        <h2 id="log-title">Entries, {filters.order === "oldest" ? "oldest" : "newest"} first</h2>
        <p className="hint">Times are in your time zone ({viewerZone()}).</p>
        {log.state === "loading" && <Loading what="the audit log" />}
        {log.state === "error" &&
          (fieldOwned ? (
            <p className="form-error" role="alert">
              The filters above need a change.
            </p>
          ) : (
            <ErrorView problem={log.problem} retry={log.reload} />
          ))}
        {log.state === "ready" &&
          (log.data.entries.length === 0 ? (
            <Empty>No entries match these filters.</Empty>
          ) : (
            <>
              <table>
                <caption className="sr-only">
                  Audit log entries, {filters.order === "oldest" ? "oldest" : "newest"} first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">What</th>
                    <th scope="col">Changes</th>
                    <th scope="col">Event</th>
                  </tr>
                </thead>
                <tbody>
                  {log.data.entries.map((e) => (
                    <tr key={e.position}>
                      <td>
                        <When at={e.occurred_at} seconds />
                      </td>
                      <td>{who(e, people)}</td>
                      <td>{describe(e, people)}</td>
                      <td>
                        {changes(e).map((c) => (
                          <div key={c}>{c}</div>
                        ))}
                      </td>
                      <td>
                        <code>{e.action}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager
                label="Audit log pages"
                page={pages.page}
                next={log.data.next_cursor}
                onNext={pages.next}
                onBack={pages.back}
              />
            </>
          ))}
      </section>
      <AsOf workspaceId={workspaceId} />
    </>
  );
}

type AsOfState = Schemas["WorkspaceAsOfOut"];

function AsOf({ workspaceId }: { workspaceId: string }) {
  const [state, setState] = useState<AsOfState | null>(null);
  const show = useAction(async (at: string | undefined) => {
    setState(null);
    setState(
      await call(
        api.GET("/v1/workspaces/{workspace_id}/audit/state", {
          params: { path: { workspace_id: workspaceId }, query: at ? { as_of: at } : {} },
        }),
      ),
    );
  });
  const errors = fieldErrors(show.problem);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    void show.run(instant(new FormData(e.currentTarget).get("as_of")));
  };
  return (
    <section aria-labelledby="asof-title">
      <h2 id="asof-title">Members and roles as of an instant</h2>
      <form onSubmit={submit} noValidate className="inline">
        <Field
          label="As of"
          name="as_of"
          type="datetime-local"
          step="1"
          hint="Your time zone; leave empty for now."
          error={errors.as_of}
        />
        <button type="submit" disabled={show.busy}>
          {show.busy ? "Replaying…" : "Show"}
        </button>
      </form>
      <FormError problem={show.problem} fields={["as_of"]} />
      {show.busy && <Loading what="the workspace as it was" />}
      {state && <AsOfView state={state} />}
    </section>
  );
}

function AsOfView({ state }: { state: AsOfState }) {
  if (!state.exists)
    return (
      <Empty>
        The workspace did not exist yet at <When at={state.as_of} />.
      </Empty>
    );
  return (
    <div role="region" aria-label="The workspace as it was">
      <p>
        <strong>{state.name}</strong> at <When at={state.as_of} />
        {state.archived && " (archived)"}
      </p>
      <table>
        <caption>Members then</caption>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
          </tr>
        </thead>
        <tbody>
          {state.members.map((m) => (
            <tr key={m.user_id}>
              <td>{m.email ?? <code>{m.user_id}</code>}</td>
              <td>
                <span className={`role role-${m.role}`}>{m.role}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {state.pending_invitations.length > 0 ? (
        <table>
          <caption>Pending invitations then</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {state.pending_invitations.map((i) => (
              <tr key={i.invitation_id}>
                <td>{i.email}</td>
                <td>{i.role}</td>
                <td>
                  <When at={i.expires_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No pending invitations then.</p>
      )}
      {state.active_tokens.length > 0 ? (
        <table>
          <caption>API tokens alive then</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Permissions</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {state.active_tokens.map((t) => (
              <tr key={t.token_id}>
                <td>{t.name}</td>
                <td>{t.permissions.join(", ")}</td>
                <td>
                  <When at={t.expires_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No API tokens alive then.</p>
      )}
    </div>
  );
}
