// A workspace's overview: its name, kind, your role, and what your role lets you do.
import { api, call } from "../api/client";
import { useResource } from "../data";
import { Link } from "../router";
import { ErrorView, Loading } from "../ui";

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
