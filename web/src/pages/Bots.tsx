// The workspace's bots: name, market, mode, running or stopped, and their hosts' state and next
// wake (the compute API), followed live from the workspace's events.
import { api, call, type Schemas } from "../api/client";
import { HostBadge, ModeBadge, When } from "../bots";
import { useResource } from "../data";
import { useLiveEvents } from "../live";
import { Link } from "../router";
import { WeekTimeline } from "../timeline";
import { Empty, ErrorView, Loading } from "../ui";

const LIMIT = 200;

export function BotsPage({ workspaceId }: { workspaceId: string }) {
  const bots = useResource(
    () =>
      call(
        api.GET("/v1/workspaces/{workspace_id}/bots", {
          params: { path: { workspace_id: workspaceId }, query: { limit: LIMIT } },
        }),
      ),
    [workspaceId],
  );
  // Hosts are the compute service's: a bot without one (never woken) or a compute API that
  // cannot answer leaves the column saying so, not the page in error.
  const hosts = useResource(async () => {
    try {
      const page = await call(
        api.GET("/v1/workspaces/{workspace_id}/hosts", {
          params: { path: { workspace_id: workspaceId }, query: { limit: LIMIT } },
        }),
      );
      return new Map(page.items.map((h) => [h.bot_id, h]));
    } catch {
      return null;
    }
  }, [workspaceId]);
  useLiveEvents(workspaceId, ["bots.bot_", "compute."], (type) => {
    if (type.startsWith("bots.") || type === "stream.opened") bots.reload();
    if (!type.startsWith("bots.")) hosts.reload();
  });
  const access = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/access", { params: { path: { workspace_id: workspaceId } } })),
    [workspaceId],
  );
  const mayCreate = access.state === "ready" && access.data.permissions.includes("bots:create");
  const hostOf = hosts.state === "ready" ? hosts.data : null;
  return (
    <main>
      <h1>Bots</h1>
      {mayCreate && (
        <p>
          <Link href={`/w/${workspaceId}/bots/new`}>New bot</Link>
        </p>
      )}
      {bots.state === "loading" && <Loading what="bots" />}
      {bots.state === "error" && <ErrorView problem={bots.problem} retry={bots.reload} />}
      {bots.state === "ready" &&
        (bots.data.items.length === 0 ? (
          <Empty>No bots in this workspace yet.</Empty>
        ) : (
          <BotTable
            workspaceId={workspaceId}
            bots={bots.data.items}
            hosts={hostOf}
            hostsKnown={hosts.state === "ready" && hosts.data !== null}
          />
        ))}
    </main>
  );
}

function BotTable(props: {
  workspaceId: string;
  bots: Schemas["BotOut"][];
  hosts: Map<string, Schemas["HostOut"]> | null;
  hostsKnown: boolean;
}) {
  return (
    <table>
      <caption className="sr-only">Bots of this workspace</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Market</th>
          <th scope="col">Mode</th>
          <th scope="col">State</th>
          <th scope="col">Sessions</th>
          <th scope="col">Host</th>
          <th scope="col">Next wake</th>
        </tr>
      </thead>
      <tbody>
        {props.bots.map((b) => {
          const host = props.hosts?.get(b.bot_id);
          return (
            <tr key={b.bot_id}>
              <td>
                <Link href={`/w/${props.workspaceId}/bots/${b.bot_id}`}>{b.name}</Link>
              </td>
              <td>
                {b.config.market.symbol} <span className="muted">on {b.config.market.venue}</span>
              </td>
              <td>
                <ModeBadge mode={b.mode} />
              </td>
              <td>
                <span className={`status state-${b.state}`}>{b.state}</span>
              </td>
              <td>
                <WeekTimeline sessions={b.config.sessions} compact />
              </td>
              <td>
                {props.hostsKnown ? (
                  <HostBadge state={host?.state ?? null} />
                ) : (
                  <span className="muted">unknown</span>
                )}
              </td>
              <td>
                <When at={host?.next_wake_at} zone={b.config.sessions?.time_zone} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
