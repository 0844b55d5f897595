// Shared views of support: a ticket's status in words, its facts, and its public thread. Internal
// notes are not here: only the operators' ticket page reads them (web/src/pages/OperatorTicket.tsx).
import type { ReactNode } from "react";
import type { Schemas } from "./api/client";
import { When } from "./bots";
import { Link } from "./router";

export type Ticket = Schemas["TicketOut"];
export type TicketDetail = Schemas["TicketDetailOut"];
export type Status = Ticket["status"];

export const STATUSES: Status[] = ["open", "waiting_on_user", "resolved", "closed"];
export const STATUS_WORDS: Record<Status, string> = {
  open: "open (support's turn)",
  waiting_on_user: "waiting on you",
  resolved: "resolved",
  closed: "closed",
};
const MARK: Record<Status, string> = { open: "●", waiting_on_user: "◐", resolved: "✓", closed: "○" };

export const CATEGORIES: Ticket["category"][] = [
  "bots",
  "exchange_connections",
  "compute",
  "account",
  "billing",
  "other",
];
export const PRIORITIES: Ticket["priority"][] = ["low", "normal", "high", "urgent"];

export const words = (s: string) => s.replaceAll("_", " ");

/** Active tickets may be resolved or closed by their members; others reopen by a reply. */
export const isActive = (s: Status) => s === "open" || s === "waiting_on_user";

export function StatusBadge({ status, operator }: { status: Status; operator?: boolean }) {
  const text = operator && status === "waiting_on_user" ? "waiting on the user" : STATUS_WORDS[status];
  return (
    <span className={`badge ticket-${status}`}>
      <span aria-hidden="true">{MARK[status]} </span>
      {text}
    </span>
  );
}

export function TicketFacts({ t, operator }: { t: Ticket; operator?: boolean }) {
  return (
    <dl className="facts">
      <div>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={t.status} operator={operator ?? false} />
        </dd>
      </div>
      <div>
        <dt>Category</dt>
        <dd>{words(t.category)}</dd>
      </div>
      <div>
        <dt>Priority</dt>
        <dd className={`priority-${t.priority}`}>{t.priority}</dd>
      </div>
      <div>
        <dt>Opened</dt>
        <dd>
          <When at={t.opened_at} />
        </dd>
      </div>
      {t.first_response_at && (
        <div>
          <dt>First answer</dt>
          <dd>
            <When at={t.first_response_at} /> ({duration(t.first_response_seconds)})
          </dd>
        </div>
      )}
      {t.links.bot_ids.length > 0 && (
        <div>
          <dt>About bots</dt>
          <dd>
            {t.links.bot_ids.map((b) => (
              <code key={b} className="param">
                {b}
              </code>
            ))}
          </dd>
        </div>
      )}
    </dl>
  );
}

/** Seconds as a person says them: 45 s, 12 min, 3.5 h, 2.1 days. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

/** The public thread: the ticket's first message, then each reply, oldest first, told apart by
 * who wrote it (a word, then a style). `author` names a user-side author; `operator` an
 * operator's message (the customer reads "plutarc support"). */
export function Thread(props: {
  t: TicketDetail;
  author: (userId: string) => string;
  operator?: (m: TicketDetail["thread"][number]) => string;
}) {
  const { t } = props;
  return (
    <ol className="thread" aria-label="Conversation">
      <li className="message message-user">
        <p className="byline">
          <strong>{props.author(t.opened_by)}</strong> wrote <When at={t.opened_at} />
        </p>
        <p className="body">{t.body}</p>
      </li>
      {t.thread.map((m) => (
        <li key={m.message_id} className={`message message-${m.side}`}>
          <p className="byline">
            <strong>
              {m.side === "operator" ? (props.operator?.(m) ?? "plutarc support") : props.author(m.author)}
            </strong>{" "}
            {m.side === "operator" ? "answered" : "wrote"} <When at={m.posted_at} />
          </p>
          <p className="body">{m.body}</p>
        </li>
      ))}
    </ol>
  );
}

/** What a ticket table may show, and each column's heading. */
const COLUMNS = {
  status: "Status",
  category: "Category",
  priority: "Priority",
  messages: "Messages",
  last: "Last message",
  waiting: "Waiting since",
  opened: "Opened",
  assignee: "Assigned to",
  workspace: "Workspace",
} as const;
export type Column = keyof typeof COLUMNS;

/** A table of tickets: the subject (a link to `href(t)`), then `columns` in that order. For an
 * operator, the status is said from support's side and `me` is "you" among the assignees. */
export function TicketTable(props: {
  tickets: Ticket[];
  caption: string;
  columns: Column[];
  href: (t: Ticket) => string;
  operator?: boolean;
  me?: string | undefined;
}) {
  const cell = (t: Ticket, c: Column): ReactNode => {
    switch (c) {
      case "status":
        return <StatusBadge status={t.status} operator={props.operator ?? false} />;
      case "category":
        return words(t.category);
      case "priority":
        return t.priority;
      case "messages":
        return t.messages + 1;
      case "last":
      case "waiting":
        return <When at={t.last_public_message_at} />;
      case "opened":
        return <When at={t.opened_at} />;
      case "workspace":
        return t.workspace_name ?? <code>{t.workspace_id}</code>;
      case "assignee":
        if (!t.assignee) return <span className="muted">no one</span>;
        return t.assignee === props.me ? "you" : (t.assignee_name ?? <code>{t.assignee}</code>);
    }
  };
  return (
    <table>
      <caption className="sr-only">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Subject</th>
          {props.columns.map((c) => (
            <th key={c} scope="col">
              {COLUMNS[c]}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.tickets.map((t) => (
          <tr key={t.ticket_id}>
            <td>
              <Link href={props.href(t)}>{t.subject}</Link>
            </td>
            {props.columns.map((c) => (
              <td key={c} className={c === "priority" ? `priority-${t.priority}` : undefined}>
                {cell(t, c)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
