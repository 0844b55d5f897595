// One ticket for a member of its workspace: its facts, the public thread (live: an operator's
// answer appears without a reload), a reply form, and Resolve / Close while it is active. A
// reply to a finished ticket reopens it, or opens a follow-up that the page then shows.
// Operators' internal notes never reach this page: no member route serves them.
import { type FormEvent } from "react";
import { api, call, idempotency } from "../api/client";
import { useAction, useResource } from "../data";
import { useLiveEvents } from "../live";
import { Link, navigate } from "../router";
import { useSession } from "../session";
import { isActive, type TicketDetail, TicketFacts, Thread } from "../support";
import { FormError, NotReady } from "../ui";
import { fieldErrors, inWords } from "../words";

export function TicketPage(props: { workspaceId: string; ticketId: string }) {
  const { workspaceId, ticketId } = props;
  const path = { workspace_id: workspaceId, ticket_id: ticketId };
  const ticket = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/support/tickets/{ticket_id}", { params: { path } })),
    [workspaceId, ticketId],
  );
  const access = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/access", { params: { path: { workspace_id: workspaceId } } })),
    [workspaceId],
  );
  const members = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/members", { params: { path: { workspace_id: workspaceId } } })),
    [workspaceId],
  );
  const { account } = useSession();
  useLiveEvents(workspaceId, ["support."], () => ticket.reload());

  const author = (userId: string) => {
    if (userId === account?.me.user_id) return "You";
    const m = members.state === "ready" ? members.data.find((x) => x.user_id === userId) : undefined;
    return m?.display_name || m?.email || "A member";
  };
  const back = (
    <p>
      <Link href={`/w/${workspaceId}/support`}>All tickets</Link>
    </p>
  );
  if (ticket.state !== "ready") return <NotReady read={ticket} what="the ticket" title="Ticket" back={back} />;
  const t = ticket.data;
  const mayWrite = access.state === "ready" && access.data.permissions.includes("support:create");
  return (
    <main>
      {back}
      <h1>{t.subject}</h1>
      <TicketFacts t={t} />
      {t.follow_up_of && (
        <p>
          A follow-up of <Link href={`/w/${workspaceId}/support/${t.follow_up_of}`}>an earlier ticket</Link>.
        </p>
      )}
      {t.follow_up_ticket_id && (
        <p className="notice">
          This ticket was closed; it continues in{" "}
          <Link href={`/w/${workspaceId}/support/${t.follow_up_ticket_id}`}>its follow-up</Link>.
        </p>
      )}
      <section aria-labelledby="thread-title">
        <h2 id="thread-title">Conversation</h2>
        <Thread t={t} author={author} />
      </section>
      {mayWrite && <Answer workspaceId={workspaceId} t={t} changed={ticket.reload} />}
    </main>
  );
}

function Answer(props: { workspaceId: string; t: TicketDetail; changed: () => void }) {
  const { workspaceId, t } = props;
  const path = { workspace_id: workspaceId, ticket_id: t.ticket_id };
  const reply = useAction(async (form: HTMLFormElement) => {
    const out = await call(
      api.POST("/v1/workspaces/{workspace_id}/support/tickets/{ticket_id}/messages", {
        params: { path, header: idempotency() },
        body: { body: String(new FormData(form).get("body") ?? "") },
      }),
    );
    form.reset();
    if (out.ticket_id !== t.ticket_id) navigate(`/w/${workspaceId}/support/${out.ticket_id}`);
    else props.changed();
  });
  const status = useAction(async (to: "resolved" | "closed") => {
    await call(
      api.POST("/v1/workspaces/{workspace_id}/support/tickets/{ticket_id}/status", {
        params: { path, header: idempotency() },
        body: { status: to },
      }),
    );
    props.changed();
  });
  const errors = fieldErrors(reply.problem);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    void reply.run(e.currentTarget);
  };
  const active = isActive(t.status);
  return (
    <>
      <section aria-labelledby="reply-title">
        <h2 id="reply-title">{active ? "Reply" : "Write again"}</h2>
        {!active && (
          <p className="hint" id="reopen-hint">
            This ticket is {t.status}. Writing in it reopens it (or, after a while, opens a follow-up).
          </p>
        )}
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor="reply-body">Your message</label>
            <textarea
              id="reply-body"
              name="body"
              rows={4}
              aria-invalid={errors.body ? true : undefined}
              aria-describedby={errors.body ? "reply-body-error" : active ? undefined : "reopen-hint"}
            />
            {errors.body && (
              <p id="reply-body-error" className="field-error" role="alert">
                {errors.body}
              </p>
            )}
          </div>
          <FormError problem={reply.problem} fields={["body"]} />
          <button type="submit" disabled={reply.busy}>
            {reply.busy ? "Sending…" : active ? "Send reply" : "Send and reopen"}
          </button>
        </form>
      </section>
      {active && (
        <section aria-labelledby="status-title">
          <h2 id="status-title">Done with it?</h2>
          {status.problem && (
            <p className="form-error" role="alert">
              {inWords(status.problem)}
            </p>
          )}
          <div className="actions">
            <button type="button" disabled={status.busy} onClick={() => void status.run("resolved")}>
              Mark resolved
            </button>
            <button type="button" className="danger" disabled={status.busy} onClick={() => void status.run("closed")}>
              Close ticket
            </button>
          </div>
        </section>
      )}
    </>
  );
}
