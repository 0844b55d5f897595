// A workspace's support tickets for its members: the list (by status, newest first, a page at a
// time), live from the workspace's support events, and a form that opens a ticket (with
// support:create), about a bot when the bot page sent us here (?bot=<id>).
import { type FormEvent, useState } from "react";
import { api, call, idempotency } from "../api/client";
import { useAction, usePages, useResource } from "../data";
import { useLiveEvents } from "../live";
import { navigate } from "../router";
import {
  CATEGORIES,
  PRIORITIES,
  STATUS_WORDS,
  STATUSES,
  type Status,
  TicketTable,
  words,
} from "../support";
import { Empty, ErrorView, Field, FormError, Loading, Pager, Select, TextArea } from "../ui";
import { fieldErrors } from "../words";

const LIMIT = 25;

export function SupportPage({ workspaceId }: { workspaceId: string }) {
  const [status, setStatus] = useState<Status | "">("");
  const pages = usePages();
  const list = useResource(
    () =>
      call(
        api.GET("/v1/workspaces/{workspace_id}/support/tickets", {
          params: {
            path: { workspace_id: workspaceId },
            query: { limit: LIMIT, ...(status ? { status } : {}), ...(pages.cursor ? { cursor: pages.cursor } : {}) },
          },
        }),
      ),
    [workspaceId, status, pages.cursor],
  );
  const access = useResource(
    () =>
      call(api.GET("/v1/workspaces/{workspace_id}/access", { params: { path: { workspace_id: workspaceId } } })),
    [workspaceId],
  );
  useLiveEvents(workspaceId, ["support."], () => list.reload());
  const mayOpen = access.state === "ready" && access.data.permissions.includes("support:create");
  // Sent here from a bot page (?bot=<id>): the form first, the bot attached.
  const fromBot = new URLSearchParams(location.search).has("bot");
  return (
    <main>
      <h1>Support</h1>
      <p className="muted">
        Questions and problems for plutarc&apos;s support team. Answers arrive here and in your
        notifications.
      </p>
      {mayOpen && fromBot && <OpenTicket workspaceId={workspaceId} />}
      <section aria-labelledby="tickets-title">
        <h2 id="tickets-title">Tickets</h2>
        <div className="inline">
          <Select
            label="Status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as Status | "");
              pages.reset();
            }}
          >
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_WORDS[s]}
              </option>
            ))}
          </Select>
        </div>
        {list.state === "loading" && <Loading what="tickets" />}
        {list.state === "error" && <ErrorView problem={list.problem} retry={list.reload} />}
        {list.state === "ready" &&
          (list.data.tickets.length === 0 ? (
            <Empty>{status ? "No tickets with this status." : "No tickets in this workspace yet."}</Empty>
          ) : (
            <>
              <TicketTable
                tickets={list.data.tickets}
                caption="Support tickets of this workspace, newest first"
                columns={["status", "category", "priority", "messages", "last"]}
                href={(t) => `/w/${workspaceId}/support/${t.ticket_id}`}
              />
              <Pager
                label="Ticket pages"
                page={pages.page}
                next={list.data.next_cursor}
                onNext={pages.next}
                onBack={pages.back}
                newer={["Newer tickets", "Older tickets"]}
              />
            </>
          ))}
      </section>
      {mayOpen && !fromBot && <OpenTicket workspaceId={workspaceId} />}
    </main>
  );
}

function OpenTicket({ workspaceId }: { workspaceId: string }) {
  const bot = new URLSearchParams(location.search).get("bot");
  const [attach, setAttach] = useState(true);
  const open = useAction(async (form: FormData) => {
    const out = await call(
      api.POST("/v1/workspaces/{workspace_id}/support/tickets", {
        params: { path: { workspace_id: workspaceId }, header: idempotency() },
        body: {
          subject: String(form.get("subject") ?? ""),
          body: String(form.get("body") ?? ""),
          category: String(form.get("category")) as (typeof CATEGORIES)[number],
          priority: String(form.get("priority")) as (typeof PRIORITIES)[number],
          links: { bot_ids: bot && attach ? [bot] : [] },
        },
      }),
    );
    navigate(`/w/${workspaceId}/support/${out.ticket_id}`);
  });
  const errors = fieldErrors(open.problem);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    void open.run(new FormData(e.currentTarget));
  };
  return (
    <section aria-labelledby="open-title">
      <h2 id="open-title">Open a ticket</h2>
      <form onSubmit={submit} noValidate>
        <Field label="Subject" name="subject" error={errors.subject} />
        <TextArea id="ticket-body" label="What happened" name="body" rows={5} error={errors.body} />
        <div className="inline">
          <Select label="Category" name="category" defaultValue={bot ? "bots" : "other"} error={errors.category}>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {words(c)}
              </option>
            ))}
          </Select>
          <Select label="Priority" name="priority" defaultValue="normal" error={errors.priority}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </Select>
        </div>
        {bot && (
          <label className="check">
            <input type="checkbox" checked={attach} onChange={(e) => setAttach(e.target.checked)} /> Attach
            bot <code>{bot}</code> to the ticket
          </label>
        )}
        <FormError problem={open.problem} fields={["subject", "body", "category", "priority"]} />
        <button type="submit" disabled={open.busy}>
          {open.busy ? "Opening…" : "Open ticket"}
        </button>
      </form>
    </section>
  );
}
