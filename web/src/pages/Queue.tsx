// The operators' queue: every workspace's tickets waiting on support (most urgent first, then
// oldest), by assignee; every ticket by status and workspace; and the response and resolution
// times of the last 30 days. Operators
// only: anyone else is told so (the API answers them access.not_an_operator).
import { type FormEvent, useEffect, useState } from "react";
import { api, call } from "../api/client";
import { usePages, useResource } from "../data";
import { useOperatorEvents } from "../live";
import { useSession } from "../session";
import { duration, STATUSES, type Status, TicketTable, words } from "../support";
import { Empty, ErrorView, Field, Loading, Pager, Select } from "../ui";
import { fieldErrors } from "../words";

const LIMIT = 50;
type Assignee = "" | "me" | "none";

export function QueuePage() {
  const { account } = useSession();
  const [assignee, setAssignee] = useState<Assignee>("");
  const pages = usePages();
  const queue = useResource(
    () =>
      call(
        api.GET("/v1/support/queue", {
          params: {
            query: { limit: LIMIT, ...(assignee ? { assignee } : {}), ...(pages.cursor ? { cursor: pages.cursor } : {}) },
          },
        }),
      ),
    [assignee, pages.cursor],
  );
  const me = account?.me.user_id;
  // Live: a ticket opened, answered, assigned or closed anywhere reloads the queue and the
  // list of every ticket (one stream for both).
  const [changes, setChanges] = useState(0);
  useOperatorEvents(() => {
    queue.reload();
    setChanges((n) => n + 1);
  });
  return (
    <main>
      <h1>Support queue</h1>
      <section aria-labelledby="queue-title">
        <h2 id="queue-title">Waiting on support</h2>
        <div className="actions">
          <Select
            label="Assigned to"
            value={assignee}
            onChange={(e) => {
              setAssignee(e.target.value as Assignee);
              pages.reset();
            }}
          >
            <option value="">Anyone or no one</option>
            <option value="me">Me</option>
            <option value="none">No one yet</option>
          </Select>
          <button type="button" onClick={queue.reload}>
            Refresh
          </button>
        </div>
        {queue.state === "loading" && <Loading what="the queue" />}
        {queue.state === "error" && <ErrorView problem={queue.problem} retry={queue.reload} />}
        {queue.state === "ready" &&
          (queue.data.tickets.length === 0 ? (
            <Empty>No ticket is waiting on support.</Empty>
          ) : (
            <>
              <TicketTable
                tickets={queue.data.tickets}
                caption="Tickets waiting on support, most urgent first"
                columns={["priority", "workspace", "category", "status", "waiting", "assignee"]}
                href={(t) => `/support/tickets/${t.ticket_id}`}
                operator
                me={me}
              />
              <Pager label="Queue pages" page={pages.page} next={queue.data.next_cursor} onNext={pages.next} onBack={pages.back} />
            </>
          ))}
      </section>
      {/* For anyone but an operator the queue's refusal is the one thing to say. */}
      {account?.operator && (
        <>
          <AllTickets me={me} changes={changes} />
          <Stats />
        </>
      )}
    </main>
  );
}

function Stats() {
  const stats = useResource(() => call(api.GET("/v1/support/stats", {})), []);
  return (
    <section aria-labelledby="stats-title">
      <h2 id="stats-title">Response times, last 30 days</h2>
      {stats.state === "loading" && <Loading what="response times" />}
      {stats.state === "error" && <ErrorView problem={stats.problem} retry={stats.reload} />}
      {stats.state === "ready" &&
        (stats.data.priorities.every((p) => p.opened === 0) ? (
          <Empty>No tickets opened in the last 30 days.</Empty>
        ) : (
          <table>
            <caption className="sr-only">First response and resolution times per priority</caption>
            <thead>
              <tr>
                <th scope="col">Priority</th>
                <th scope="col">Opened</th>
                <th scope="col">Answered</th>
                <th scope="col">Resolved</th>
                <th scope="col">First answer (median / 90%)</th>
                <th scope="col">Resolution (median / 90%)</th>
              </tr>
            </thead>
            <tbody>
              {stats.data.priorities.map((p) => (
                <tr key={p.priority}>
                  <td className={`priority-${p.priority}`}>{p.priority}</td>
                  <td>{p.opened}</td>
                  <td>{p.responded}</td>
                  <td>{p.resolved}</td>
                  <td>
                    {p.first_response_seconds
                      ? `${duration(p.first_response_seconds.median)} / ${duration(p.first_response_seconds.p90)}`
                      : "—"}
                  </td>
                  <td>
                    {p.resolution_seconds
                      ? `${duration(p.resolution_seconds.median)} / ${duration(p.resolution_seconds.p90)}`
                      : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}

/** Every workspace's tickets, newest first, by status and workspace: where a ticket waiting on
 * its user, resolved or closed is found again (the queue holds open ones only). */
function AllTickets({ me, changes }: { me: string | undefined; changes: number }) {
  const [filter, setFilter] = useState<{ status: Status | ""; workspace: string }>({ status: "", workspace: "" });
  const pages = usePages();
  const list = useResource(
    () =>
      call(
        api.GET("/v1/support/tickets", {
          params: {
            query: {
              limit: LIMIT,
              ...(filter.status ? { status: filter.status } : {}),
              ...(filter.workspace ? { workspace_id: filter.workspace } : {}),
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
            },
          },
        }),
      ),
    [filter.status, filter.workspace, pages.cursor],
  );
  const reload = list.reload;
  useEffect(() => {
    if (changes > 0) reload();
  }, [changes, reload]);
  const errors = fieldErrors(list.state === "error" ? list.problem : null);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setFilter({
      status: String(form.get("status") ?? "") as Status | "",
      workspace: String(form.get("workspace") ?? "").trim(),
    });
    pages.reset();
  };
  return (
    <section aria-labelledby="all-title">
      <h2 id="all-title">Every ticket</h2>
      <form className="grid" onSubmit={submit} noValidate aria-label="Find tickets">
        <Select label="With status" name="status" defaultValue="" error={errors.status}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {words(s)}
            </option>
          ))}
        </Select>
        <Field label="In workspace (id)" name="workspace" placeholder="any" error={errors.workspace_id} />
        <button type="submit">Find</button>
      </form>
      {list.state === "loading" && <Loading what="tickets" />}
      {list.state === "error" && !Object.keys(errors).length && <ErrorView problem={list.problem} retry={list.reload} />}
      {list.state === "ready" &&
        (list.data.tickets.length === 0 ? (
          <Empty>No tickets match.</Empty>
        ) : (
          <>
            <TicketTable
              tickets={list.data.tickets}
              caption="Every workspace's tickets, newest first"
              columns={["workspace", "status", "priority", "opened", "assignee"]}
              href={(t) => `/support/tickets/${t.ticket_id}`}
              operator
              me={me}
            />
            <Pager label="Ticket pages" page={pages.page} next={list.data.next_cursor} onNext={pages.next} onBack={pages.back} />
          </>
        ))}
    </section>
  );
}
