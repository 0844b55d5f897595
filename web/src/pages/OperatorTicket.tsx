// A ticket as an operator works it: the customer's thread, the operators' internal notes (in a
// style of their own, marked as never shown to the customer), a reply to the customer, a note,
// assignment to any operator (listed by name) and any status; people and the workspace by name
// where the API knows them. Operators only (the API refuses anyone else).
import { type FormEvent, useId } from "react";
import { api, call, idempotency, type Problem } from "../api/client";
import { When } from "../bots";
import { useAction, useResource } from "../data";
import { useOperatorEvents } from "../live";
import { Link } from "../router";
import { useSession } from "../session";
import { STATUSES, type Status, TicketFacts, Thread, words } from "../support";
import { Empty, ErrorView, FormError, Loading, NotReady, Select, TextArea } from "../ui";
import { fieldErrors, inWords } from "../words";

export function OperatorTicketPage({ ticketId }: { ticketId: string }) {
  const path = { ticket_id: ticketId };
  const ticket = useResource(
    () => call(api.GET("/v1/support/tickets/{ticket_id}", { params: { path } })),
    [ticketId],
  );
  const notes = useResource(
    () => call(api.GET("/v1/support/tickets/{ticket_id}/notes", { params: { path } })),
    [ticketId],
  );
  const operators = useResource(() => call(api.GET("/v1/support/operators")), []);
  const { account } = useSession();
  const me = account?.me.user_id ?? "";
  const reload = () => {
    ticket.reload();
    notes.reload();
  };
  // Live: the customer's replies and any change of this ticket, from the operators' stream.
  useOperatorEvents((type, data) => {
    if (type === "stream.opened" || data?.includes(ticketId)) ticket.reload();
  });
  const reply = useAction(async (form: HTMLFormElement) => {
    await call(
      api.POST("/v1/support/tickets/{ticket_id}/messages", {
        params: { path, header: idempotency() },
        body: { body: String(new FormData(form).get("body") ?? "") },
      }),
    );
    form.reset();
    ticket.reload();
  });
  const note = useAction(async (form: HTMLFormElement) => {
    await call(
      api.POST("/v1/support/tickets/{ticket_id}/notes", {
        params: { path, header: idempotency() },
        body: { body: String(new FormData(form).get("body") ?? "") },
      }),
    );
    form.reset();
    notes.reload();
  });
  const change = useAction(async (what: { status: Status } | { assign: string }) => {
    if ("status" in what)
      await call(
        api.POST("/v1/support/tickets/{ticket_id}/status", {
          params: { path, header: idempotency() },
          body: { status: what.status },
        }),
      );
    else
      await call(
        api.PUT("/v1/support/tickets/{ticket_id}/assignee", {
          params: { path, header: idempotency() },
          body: { operator_id: what.assign },
        }),
      );
    ticket.reload();
  });

  const back = (
    <p>
      <Link href="/support/queue">Support queue</Link>
    </p>
  );
  if (ticket.state !== "ready") return <NotReady read={ticket} what="the ticket" title="Ticket" back={back} />;
  const t = ticket.data;
  const names = new Map<string, string>();
  if (t.opened_by_name) names.set(t.opened_by, t.opened_by_name);
  for (const m of t.thread) if (m.author_name) names.set(m.author, m.author_name);
  const team = operators.state === "ready" ? operators.data : [];
  const nameOf = (id: string) => team.find((o) => o.user_id === id)?.display_name ?? null;
  return (
    <main>
      {back}
      <h1>{t.subject}</h1>
      <TicketFacts t={t} operator />
      <dl className="facts">
        <div>
          <dt>Workspace</dt>
          <dd>
            {t.workspace_name ?? "(name not known yet)"} <code className="muted">{t.workspace_id}</code>
          </dd>
        </div>
        <div>
          <dt>Opened by</dt>
          <dd>{t.opened_by_name ?? <code>{t.opened_by}</code>}</dd>
        </div>
        <div>
          <dt>Assigned to</dt>
          <dd>
            {t.assignee
              ? t.assignee === me
                ? "you"
                : (t.assignee_name ?? nameOf(t.assignee) ?? <code>{t.assignee}</code>)
              : "no one"}
          </dd>
        </div>
      </dl>
      <section aria-labelledby="manage-title">
        <h2 id="manage-title">Manage</h2>
        {change.problem && (
          <p className="form-error" role="alert">
            {inWords(change.problem)}
          </p>
        )}
        <div className="actions">
          {t.assignee !== me && (
            <button type="button" disabled={change.busy} onClick={() => void change.run({ assign: me })}>
              Assign to me
            </button>
          )}
          {team.length > 1 && (
            <form
              className="inline"
              aria-label="Assign to an operator"
              onSubmit={(e) => {
                e.preventDefault();
                void change.run({ assign: String(new FormData(e.currentTarget).get("operator")) });
              }}
            >
              <Select label="Assign to" name="operator" key={t.assignee ?? ""} defaultValue={t.assignee ?? me}>
                {team.map((o) => (
                  <option key={o.user_id} value={o.user_id}>
                    {(o.display_name ?? o.user_id) + (o.user_id === me ? " (you)" : "")}
                  </option>
                ))}
              </Select>
              <button type="submit" disabled={change.busy}>
                Assign
              </button>
            </form>
          )}
          <form
            className="inline"
            aria-label="Set the status"
            onSubmit={(e) => {
              e.preventDefault();
              const to = String(new FormData(e.currentTarget).get("status")) as Status;
              void change.run({ status: to });
            }}
          >
            <Select label="Status" name="status" key={t.status} defaultValue={t.status}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {words(s)}
                </option>
              ))}
            </Select>
            <button type="submit" disabled={change.busy}>
              Set status
            </button>
          </form>
          <button type="button" onClick={reload}>
            Refresh
          </button>
        </div>
      </section>
      <section aria-labelledby="thread-title">
        <h2 id="thread-title">Conversation with the customer</h2>
        <Thread
          t={t}
          author={(id) => names.get(id) ?? "Customer"}
          operator={(m) => `${m.author === me ? "You" : (m.author_name ?? "An operator")} (support)`}
        />
        <TextForm
          title="Reply to the customer"
          label="Reply (the customer reads this)"
          button="Send reply"
          busyWord="Sending…"
          action={reply}
        />
      </section>
      <section aria-labelledby="notes-title" className="internal">
        <h2 id="notes-title">Internal notes</h2>
        <p className="internal-warning">Operators only: never shown to the customer.</p>
        {notes.state === "loading" && <Loading what="internal notes" />}
        {notes.state === "error" && <ErrorView problem={notes.problem} retry={notes.reload} />}
        {notes.state === "ready" &&
          (notes.data.length === 0 ? (
            <Empty>No internal notes.</Empty>
          ) : (
            <ol className="thread" aria-label="Internal notes">
              {notes.data.map((n) => (
                <li key={n.note_id} className="message note">
                  <p className="byline">
                    <span className="badge internal-badge">internal note</span>{" "}
                    <strong>{n.author === me ? "You" : (n.author_name ?? n.author)}</strong> noted{" "}
                    <When at={n.added_at} />
                  </p>
                  <p className="body">{n.body}</p>
                </li>
              ))}
            </ol>
          ))}
        <TextForm
          title="Add an internal note"
          label="Internal note (operators only)"
          button="Add internal note"
          busyWord="Adding…"
          action={note}
        />
      </section>
    </main>
  );
}

function TextForm(props: {
  title: string;
  label: string;
  button: string;
  busyWord: string;
  action: { run: (form: HTMLFormElement) => Promise<boolean>; busy: boolean; problem: Problem | null };
}) {
  const id = useId();
  const error = fieldErrors(props.action.problem).body;
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    void props.action.run(e.currentTarget);
  };
  return (
    <form onSubmit={submit} noValidate aria-label={props.title}>
      <TextArea id={id} label={props.label} name="body" rows={3} error={error} />
      <FormError problem={props.action.problem} fields={["body"]} />
      <button type="submit" disabled={props.action.busy}>
        {props.action.busy ? props.busyWord : props.button}
      </button>
    </form>
  );
}
