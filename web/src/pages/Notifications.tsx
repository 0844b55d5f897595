// Your notification feed, newest first: support's answers to tickets you opened, warnings that a
// ticket waiting on you will close, and tickets closed for inactivity (never an internal note:
// the feed is folded from support's public events alone).
import { api, call, type Schemas } from "../api/client";
import { When } from "../bots";
import { usePages, useResource } from "../data";
import { Link } from "../router";
import { useSession } from "../session";
import { Empty, ErrorView, Loading, Pager } from "../ui";

type Notice = Schemas["NotificationOut"];
const LIMIT = 25;

function said(n: Notice): string {
  const d = n.detail as Record<string, string | undefined>;
  if (n.kind === "operator_reply") return `Support answered: “${d.preview ?? ""}”`;
  if (n.kind === "auto_close_warning")
    return `Waiting on you; it closes by itself on ${d.closes_at ? new Date(d.closes_at).toLocaleString() : "soon"} unless you write.`;
  return "Closed: nobody wrote in it for a while. Writing in it opens a follow-up.";
}

export function NotificationsPage() {
  const { account } = useSession();
  const pages = usePages();
  const feed = useResource(
    () =>
      call(
        api.GET("/v1/me/notifications", {
          params: { query: { limit: LIMIT, ...(pages.cursor ? { cursor: pages.cursor } : {}) } },
        }),
      ),
    [pages.cursor],
  );
  const workspace = (id: string) => account?.workspaces.find((w) => w.workspace_id === id)?.name ?? id;
  return (
    <main>
      <h1>Notifications</h1>
      {feed.state === "loading" && <Loading what="your notifications" />}
      {feed.state === "error" && <ErrorView problem={feed.problem} retry={feed.reload} />}
      {feed.state === "ready" &&
        (feed.data.notifications.length === 0 ? (
          <Empty>No notifications yet: answers to the tickets you open will appear here.</Empty>
        ) : (
          <>
            <ol className="thread" aria-label="Your notifications, newest first">
              {feed.data.notifications.map((n) => (
                <li key={n.position} className={`message notice-${n.kind}`}>
                  <p className="byline">
                    <Link href={`/w/${n.workspace_id}/support/${n.ticket_id}`}>{n.subject}</Link> in{" "}
                    {workspace(n.workspace_id)} · <When at={n.at} />
                  </p>
                  <p className="body">{said(n)}</p>
                </li>
              ))}
            </ol>
            <Pager
              label="Notification pages"
              page={pages.page}
              next={feed.data.next_cursor}
              onNext={pages.next}
              onBack={pages.back}
              newer={["Newer", "Older"]}
            />
          </>
        ))}
    </main>
  );
}
