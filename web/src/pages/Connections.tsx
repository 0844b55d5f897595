// A workspace's venue connections: the list (never a secret: a fingerprint tells two keys apart),
// and, with exchange_connections:manage, the form that adds one and the remove button. Keys are
// sealed in the browser to the gateway's public key (../seal, loaded on demand), so they leave
// the page only as sealed boxes, as the CLI sends them; the key fields are emptied after each
// submit and are never shown again.
import { type FormEvent, useRef, useState } from "react";
import { api, call, idempotency, type Problem, type Schemas } from "../api/client";
import { VENUES, type Venue } from "../bots";
import { useAction, useResource } from "../data";
import { useLiveEvents } from "../live";
import { Empty, ErrorView, Field, FormError, Loading, Select } from "../ui";
import { fieldErrors, inWords } from "../words";

type Environment = "testnet" | "live";
type Connection = Schemas["ConnectionOut"];

const ENVIRONMENTS: Environment[] = ["testnet", "live"];
const MANAGE = "exchange_connections:manage";

const path = (workspace_id: string) => ({ params: { path: { workspace_id } } });

export function ConnectionsPage({ workspaceId }: { workspaceId: string }) {
  const access = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/access", path(workspaceId))),
    [workspaceId],
  );
  const connections = useResource(
    () =>
      call(
        api.GET("/v1/workspaces/{workspace_id}/connections", {
          params: { path: { workspace_id: workspaceId }, query: { limit: 200 } },
        }),
      ),
    [workspaceId],
  );
  // Added or removed elsewhere (another member, the CLI): read the list again.
  useLiveEvents(workspaceId, ["exchange.connection_"], () => connections.reload());
  const canManage = access.state === "ready" && access.data.permissions.includes(MANAGE);
  return (
    <main>
      <h1>Venue connections</h1>
      <p className="hint">
        The API keys a bot trades testnet or live with. Keys are sealed in this browser to the
        exchange gateway's public key before they are sent, and are never shown again: a
        connection shows its key's fingerprint only.
      </p>
      <section aria-labelledby="connections-title">
        <h2 id="connections-title">Connections</h2>
        {connections.state === "loading" && <Loading what="the connections" />}
        {connections.state === "error" && (
          <ErrorView problem={connections.problem} retry={connections.reload} />
        )}
        {connections.state === "ready" &&
          (connections.data.items.length === 0 ? (
            <Empty>No venue connections in this workspace yet.</Empty>
          ) : (
            <table>
              <caption className="sr-only">The workspace's venue connections</caption>
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Venue</th>
                  <th scope="col">Environments</th>
                  <th scope="col">Key fingerprint</th>
                  <th scope="col">Added</th>
                  {canManage && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {connections.data.items.map((c) => (
                  <tr key={c.connection_id}>
                    <td>{c.label}</td>
                    <td>{c.venue}</td>
                    <td>{c.environments.join(", ")}</td>
                    <td>
                      <code>{c.fingerprint}</code>
                    </td>
                    <td>
                      <time dateTime={c.added_at}>{new Date(c.added_at).toLocaleString()}</time>
                    </td>
                    {canManage && (
                      <td>
                        <Remove
                          workspaceId={workspaceId}
                          connection={c}
                          removed={connections.reload}
                        />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
      {access.state === "loading" && <Loading what="your access" />}
      {access.state === "error" && <ErrorView problem={access.problem} retry={access.reload} />}
      {access.state === "ready" &&
        (canManage ? (
          <AddForm workspaceId={workspaceId} added={connections.reload} />
        ) : (
          <Empty>
            A {access.data.role} sees the connections but cannot add or remove one: that needs the{" "}
            {MANAGE} permission (managers and above).
          </Empty>
        ))}
    </main>
  );
}

function Remove(props: { workspaceId: string; connection: Connection; removed: () => void }) {
  const { connection } = props;
  const [confirming, setConfirming] = useState(false);
  const removing = useAction(async () => {
    await call(
      api.DELETE("/v1/workspaces/{workspace_id}/connections/{connection_id}", {
        params: {
          path: { workspace_id: props.workspaceId, connection_id: connection.connection_id },
          header: idempotency(),
        },
      }),
    );
    props.removed();
  });
  return (
    <div className="actions">
      {confirming ? (
        <>
          <button
            type="button"
            className="danger"
            disabled={removing.busy}
            onClick={() => void removing.run()}
          >
            Confirm removing {connection.label}
          </button>
          {/* Focus on the safe answer: the Remove button it replaced is gone. */}
          <button type="button" autoFocus onClick={() => setConfirming(false)}>
            Keep
          </button>
          <p className="hint">Its keys are destroyed: bots using it can no longer trade.</p>
        </>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          Remove<span className="sr-only"> {connection.label}</span>
        </button>
      )}
      {removing.problem && (
        <p className="field-error" role="alert">
          {inWords(removing.problem)}
        </p>
      )}
    </div>
  );
}

/** A problem found in the browser, before anything is sent, named after the field it is about. */
function localProblem(field: string, message: string): Problem {
  return {
    type: "about:blank",
    title: "invalid",
    status: 422,
    code: "request.invalid",
    detail: message,
    instance: "",
    errors: [{ field, message }],
  } as Problem;
}

const SECRET_FIELDS = ["api_key", "secret", "password"] as const;

function AddForm(props: { workspaceId: string; added: () => void }) {
  const form = useRef<HTMLFormElement>(null);
  const [created, setCreated] = useState<Connection | null>(null);
  const add = useAction(async (data: FormData) => {
    const keys: Partial<Record<Environment, Record<string, string>>> = {};
    for (const env of ENVIRONMENTS) {
      const entered: Record<string, string> = {};
      for (const name of SECRET_FIELDS) {
        const value = String(data.get(`${env}.${name}`) ?? "").trim();
        if (value) entered[name] = value;
      }
      if (Object.keys(entered).length === 0) continue;
      if (!entered.api_key) throw localProblem(`credentials.${env}.api_key`, "Give the API key too.");
      if (!entered.secret) throw localProblem(`credentials.${env}.secret`, "Give the secret too.");
      keys[env] = entered;
    }
    if (!keys.testnet && !keys.live) {
      throw localProblem("credentials.testnet.api_key", "Give the keys for testnet, live or both.");
    }
    const [{ sealKeys }, key] = await Promise.all([
      import("../seal"),
      call(api.GET("/v1/workspaces/{workspace_id}/exchange/sealing-key", path(props.workspaceId))),
    ]);
    const sealed: Partial<Record<Environment, string>> = {};
    for (const env of ENVIRONMENTS) {
      const k = keys[env];
      if (k) sealed[env] = sealKeys(key.public_key, k as { api_key: string; secret: string });
    }
    setCreated(null);
    const out = await call(
      api.POST("/v1/workspaces/{workspace_id}/connections", {
        params: { path: { workspace_id: props.workspaceId }, header: idempotency() },
        body: {
          venue: String(data.get("venue")) as Venue,
          label: String(data.get("label") ?? ""),
          key_id: key.key_id,
          sealed,
        },
      }),
    );
    setCreated(out);
    form.current?.reset();
    props.added();
  });
  const errors = fieldErrors(add.problem);
  // The gateway names what it refused by environment: credentials.testnet (or sealed.testnet).
  const envError = (env: Environment, name: string) =>
    errors[`credentials.${env}.${name}`] ??
    (name === "api_key"
      ? (errors[`credentials.${env}`] ?? errors[`sealed.${env}`])
      : undefined);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const element = e.currentTarget;
    const data = new FormData(element);
    // The keys leave the form at once: whatever the answer, they are not kept on the page.
    for (const input of element.querySelectorAll<HTMLInputElement>("input[data-secret]")) {
      input.value = "";
    }
    void add.run(data);
  }
  return (
    <section aria-labelledby="add-title">
      <h2 id="add-title">Add a connection</h2>
      <form ref={form} onSubmit={submit} noValidate autoComplete="off">
        <Select label="Venue" name="venue" defaultValue="binance" error={errors.venue}>
          {VENUES.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </Select>
        <Field label="Label" name="label" placeholder="Main" error={errors.label} />
        {ENVIRONMENTS.map((env) => (
          <fieldset key={env}>
            <legend>{env === "testnet" ? "Testnet keys" : "Live keys"} (leave empty for none)</legend>
            <Field
              label={`${env === "testnet" ? "Testnet" : "Live"} API key`}
              name={`${env}.api_key`}
              type="password"
              autoComplete="off"
              data-secret=""
              error={envError(env, "api_key")}
            />
            <Field
              label={`${env === "testnet" ? "Testnet" : "Live"} secret`}
              name={`${env}.secret`}
              type="password"
              autoComplete="off"
              data-secret=""
              error={envError(env, "secret")}
            />
            <Field
              label={`${env === "testnet" ? "Testnet" : "Live"} passphrase (OKX, KuCoin)`}
              name={`${env}.password`}
              type="password"
              autoComplete="off"
              data-secret=""
              error={envError(env, "password")}
            />
          </fieldset>
        ))}
        <p className="hint">
          The key fields are emptied when you submit, whatever the answer: enter them again to
          retry.
        </p>
        <FormError
          problem={add.problem}
          fields={[
            "venue",
            "label",
            ...ENVIRONMENTS.flatMap((env) => [
              `credentials.${env}`,
              `sealed.${env}`,
              ...SECRET_FIELDS.map((n) => `credentials.${env}.${n}`),
            ]),
          ]}
        />
        <button type="submit" disabled={add.busy}>
          {add.busy ? "Sealing and adding…" : "Add connection"}
        </button>
      </form>
      {created && (
        <p className="notice" role="status">
          Connection {created.label} added ({created.venue}, {created.environments.join(" and ")}),
          key fingerprint <code>{created.fingerprint}</code>.
        </p>
      )}
    </section>
  );
}
