// Your personal access tokens in one workspace: each carries some of your permissions there, for
// programs (the CLI, scripts). The secret is shown once, when it is made.
import { type FormEvent, useState } from "react";
import { api, call, idempotency, type Schemas } from "../api/client";
import { useAction, useResource } from "../data";
import { Empty, ErrorView, Field, FormError, Loading } from "../ui";
import { fieldErrors, inWords } from "../words";

const path = (workspace_id: string) => ({ params: { path: { workspace_id } } });

export function TokensPage({ workspaceId }: { workspaceId: string }) {
  const access = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/access", path(workspaceId))),
    [workspaceId],
  );
  return (
    <main>
      <h1>API tokens</h1>
      {access.state === "loading" && <Loading what="your access" />}
      {access.state === "error" && <ErrorView problem={access.problem} retry={access.reload} />}
      {access.state === "ready" &&
        (access.data.permissions.includes("api_tokens:manage") ? (
          <Tokens workspaceId={workspaceId} permissions={access.data.permissions} />
        ) : (
          <Empty>
            A {access.data.role} holds no API tokens in this workspace: tokens need the
            api_tokens:manage permission (traders and above).
          </Empty>
        ))}
    </main>
  );
}

function Tokens({ workspaceId, permissions }: { workspaceId: string; permissions: string[] }) {
  const tokens = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/tokens", path(workspaceId))),
    [workspaceId],
  );
  const revoking = useAction(async (token_id: string) => {
    await call(
      api.DELETE("/v1/workspaces/{workspace_id}/tokens/{token_id}", {
        params: { path: { workspace_id: workspaceId, token_id }, header: idempotency() },
      }),
    );
    tokens.reload();
  });
  const problem = revoking.problem;
  const revoke = revoking.run;
  return (
    <>
      <section aria-labelledby="tokens-title">
        <h2 id="tokens-title">Your tokens</h2>
        {problem && (
          <p className="form-error" role="alert">
            {inWords(problem)}
          </p>
        )}
        {tokens.state === "loading" && <Loading what="your tokens" />}
        {tokens.state === "error" && <ErrorView problem={tokens.problem} retry={tokens.reload} />}
        {tokens.state === "ready" &&
          (tokens.data.length === 0 ? (
            <Empty>No API tokens yet.</Empty>
          ) : (
            <table>
              <caption className="sr-only">Your API tokens in this workspace</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Permissions</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.map((t) => (
                  <tr key={t.token_id}>
                    <td>{t.name}</td>
                    <td>{t.permissions.join(", ")}</td>
                    <td>
                      <time dateTime={t.expires_at}>{new Date(t.expires_at).toLocaleString()}</time>
                    </td>
                    <td>
                      {t.revoked ? (
                        <span className="status status-revoked">revoked</span>
                      ) : (
                        <button type="button" onClick={() => void revoke(t.token_id)}>
                          Revoke<span className="sr-only"> {t.name}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
      <IssueForm workspaceId={workspaceId} permissions={permissions} issued={tokens.reload} />
    </>
  );
}

function IssueForm(props: { workspaceId: string; permissions: string[]; issued: () => void }) {
  const [created, setCreated] = useState<Schemas["TokenCreatedOut"] | null>(null);
  const issue = useAction(async (element: HTMLFormElement) => {
    const form = new FormData(element);
    const days = String(form.get("expires_in_days") ?? "").trim();
    const body = {
      name: String(form.get("name")),
      permissions: form.getAll("permissions").map(String),
      ...(days ? { expires_in_days: Number(days) } : {}),
    };
    setCreated(null);
    const out = await call(
      api.POST("/v1/workspaces/{workspace_id}/tokens", {
        params: { path: { workspace_id: props.workspaceId }, header: idempotency() },
        body,
      }),
    );
    setCreated(out);
    element.reset();
    props.issued();
  });
  const { busy, problem } = issue;
  const errors = fieldErrors(problem);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    void issue.run(e.currentTarget);
  }
  return (
    <section aria-labelledby="issue-title">
      <h2 id="issue-title">New token</h2>
      <form onSubmit={submit} noValidate>
        <Field label="Token name" name="name" error={errors.name} />
        <fieldset aria-describedby={errors.permissions ? "permissions-error" : undefined}>
          <legend>Permissions it carries</legend>
          <div className="checks">
            {props.permissions.map((p) => (
              <label key={p} className="check">
                <input type="checkbox" name="permissions" value={p} /> <code>{p}</code>
              </label>
            ))}
          </div>
          {errors.permissions && (
            <p id="permissions-error" className="field-error" role="alert">
              {errors.permissions}
            </p>
          )}
        </fieldset>
        <Field
          label="Expires in (days)"
          name="expires_in_days"
          inputMode="numeric"
          placeholder="90"
          error={errors.expires_in_days}
        />
        <FormError problem={problem} fields={["name", "permissions", "expires_in_days"]} />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create token"}
        </button>
      </form>
      {created && (
        <div className="notice" role="status">
          <p>Token {created.name} created. Copy it now: it is shown only once.</p>
          <Field label="Token secret" readOnly value={created.token} onFocus={(e) => e.target.select()} />
        </div>
      )}
    </section>
  );
}
