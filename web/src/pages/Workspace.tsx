// A workspace's overview: its name, kind, your role, its risk defaults (editable with
// workspace:update), and what your role lets you do.
import { type FormEvent, useState } from "react";
import { api, call, idempotency, type Schemas } from "../api/client";
import { useAction, useResource } from "../data";
import { Link } from "../router";
import { useSession } from "../session";
import { ErrorView, Field, FormError, Loading } from "../ui";
import { fieldErrors } from "../words";

const RISK = [
  ["max_order_notional", "Max order notional"],
  ["max_position", "Max position"],
  ["max_open_orders", "Max open orders"],
  ["daily_loss_limit", "Daily loss limit"],
] as const;

export function WorkspacePage({ workspaceId }: { workspaceId: string }) {
  const params = { params: { path: { workspace_id: workspaceId } } };
  const info = useResource(
    () =>
      Promise.all([
        call(api.GET("/v1/workspaces/{workspace_id}", params)),
        call(api.GET("/v1/workspaces/{workspace_id}/access", params)),
      ]),
    [workspaceId],
  );
  if (info.state === "loading") return <Loading what="the workspace" />;
  if (info.state === "error") {
    return (
      <main>
        <h1>Workspace</h1>
        <ErrorView problem={info.problem} retry={info.reload} />
      </main>
    );
  }
  const [ws, access] = info.data;
  const risk = Object.entries(ws.risk);
  return (
    <main>
      <h1>{ws.name}</h1>
      <dl className="facts">
        <dt>Kind</dt>
        <dd>{ws.kind}</dd>
        <dt>Your role</dt>
        <dd>{ws.your_role}</dd>
        <dt>Created</dt>
        <dd>
          <time dateTime={ws.created_at}>{new Date(ws.created_at).toLocaleString()}</time>
        </dd>
        <dt>Status</dt>
        <dd>{ws.archived ? "archived" : "active"}</dd>
      </dl>
      <h2>Risk defaults</h2>
      {risk.length === 0 ? (
        <p className="state empty">No risk defaults set.</p>
      ) : (
        <dl className="facts">
          {risk.map(([k, v]) => (
            <div key={k}>
              <dt>{k.replaceAll("_", " ")}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
      {access.permissions.includes("workspace:update") && (
        <SettingsForm workspace={ws} saved={info.reload} />
      )}
      <h2>What you may do here</h2>
      <ul className="permissions">
        {access.permissions.map((p) => (
          <li key={p}>
            <code>{p}</code>
          </li>
        ))}
      </ul>
      <p>
        <Link href={`/w/${workspaceId}/members`}>Members and invitations</Link>
      </p>
    </main>
  );
}

function SettingsForm({ workspace, saved }: { workspace: Schemas["WorkspaceOut"]; saved: () => void }) {
  const { refresh } = useSession();
  const [done, setDone] = useState(false);
  const params = { path: { workspace_id: workspace.workspace_id }, header: idempotency() };
  const save = useAction(async (form: FormData) => {
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const risk: Record<string, string | number> = {};
    for (const [key] of RISK) {
      const value = text(key);
      if (value) risk[key] = key === "max_open_orders" && /^\d+$/.test(value) ? Number(value) : value;
    }
    setDone(false);
    if (text("name") !== workspace.name) {
      await call(api.PATCH("/v1/workspaces/{workspace_id}", { params, body: { name: text("name") } }));
      await refresh();
    }
    await call(
      api.PUT("/v1/workspaces/{workspace_id}/settings", {
        params: { ...params, header: idempotency() },
        body: {
          risk: risk as Schemas["RiskIn"],
          billing_contact: text("billing_contact") || null,
        },
      }),
    );
    setDone(true);
    saved();
  });
  const { busy, problem } = save;
  const errors = fieldErrors(problem);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    void save.run(new FormData(e.currentTarget));
  }
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <form onSubmit={submit} noValidate className="grid">
        <Field label="Workspace name" name="name" defaultValue={workspace.name} error={errors.name} />
        <Field
          label="Billing contact"
          name="billing_contact"
          type="email"
          defaultValue={workspace.billing_contact ?? ""}
          error={errors.billing_contact}
        />
        {RISK.map(([key, label]) => (
          <Field
            key={key}
            label={label}
            name={key}
            inputMode="decimal"
            hint={key === "max_open_orders" ? "A whole number." : "An amount, such as 1000 or 2500.50."}
            defaultValue={workspace.risk[key] ?? ""}
            error={errors[`risk.${key}`]}
          />
        ))}
        <FormError
          problem={problem}
          fields={["name", "billing_contact", ...RISK.map(([key]) => `risk.${key}`)]}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Save settings"}
        </button>
      </form>
      {done && (
        <p className="notice" role="status">
          Settings saved.
        </p>
      )}
    </section>
  );
}
