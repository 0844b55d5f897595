// The workspace's strategy library: each strategy's name, latest version, last change and where
// it was copied from; with strategies:create, a link to the New strategy form.
import { api, call } from "../api/client";
import { When } from "../bots";
import { useResource } from "../data";
import { Link } from "../router";
import { Empty, ErrorView, Loading } from "../ui";

const LIMIT = 200;

export function StrategiesPage({ workspaceId }: { workspaceId: string }) {
  const list = useResource(
    () =>
      call(
        api.GET("/v1/workspaces/{workspace_id}/strategies", {
          params: { path: { workspace_id: workspaceId }, query: { limit: LIMIT } },
        }),
      ),
    [workspaceId],
  );
  const access = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/access", { params: { path: { workspace_id: workspaceId } } })),
    [workspaceId],
  );
  const mayCreate = access.state === "ready" && access.data.permissions.includes("strategies:create");
  return (
    <main>
      <h1>Strategies</h1>
      {mayCreate && (
        <p>
          <Link href={`/w/${workspaceId}/strategies/new`}>New strategy</Link>
        </p>
      )}
      {list.state === "loading" && <Loading what="strategies" />}
      {list.state === "error" && <ErrorView problem={list.problem} retry={list.reload} />}
      {list.state === "ready" &&
        (list.data.items.length === 0 ? (
          <Empty>No strategies in this workspace yet.</Empty>
        ) : (
          <table>
            <caption className="sr-only">Strategies of this workspace</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Latest version</th>
                <th scope="col">Updated</th>
                <th scope="col">Copied from</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={s.strategy_id}>
                  <td>
                    <Link href={`/w/${workspaceId}/strategies/${s.strategy_id}`}>{s.name}</Link>
                  </td>
                  <td>v{s.latest_version}</td>
                  <td>
                    <When at={s.updated_at} />
                  </td>
                  <td>
                    {s.copied_from ? (
                      <span>
                        <code>{s.copied_from.strategy_id}</code> v{s.copied_from.version}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </main>
  );
}
