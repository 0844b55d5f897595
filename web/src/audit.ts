// The audit log in words: who (a member's name, an API token, the platform), what (a sentence
// per event type, else the type in words), and what changed (each field's before and after).
import type { Schemas } from "./api/client";

export type Entry = Schemas["AuditEntryOut"];
export type People = Map<string, string>; // user_id -> name or email

type Say = (e: Entry, name: (ref: string | null | undefined) => string) => string;
const str = (v: unknown) => (v === null || v === undefined ? "" : String(v));

const SENTENCES: Record<string, Say> = {
  "identity.workspace_created": (e) => `created the workspace ${str(e.after.name)}`.trim(),
  "identity.workspace_renamed": (e) => `renamed the workspace from ${str(e.before.name)} to ${str(e.after.name)}`,
  "identity.workspace_settings_changed": () => "changed the workspace's settings",
  "identity.workspace_archived": () => "archived the workspace",
  "identity.invitation_created": (e) => `invited ${str(e.after.email)} as ${str(e.after.role)}`,
  "identity.invitation_resent": (e) => `sent the invitation ${str(e.after.email)} again`.trim(),
  "identity.invitation_revoked": () => "revoked an invitation",
  "identity.invitation_accepted": () => "accepted an invitation",
  "identity.invitation_declined": () => "declined an invitation",
  "identity.invitation_expired": () => "an invitation expired",
  "identity.member_joined": (e, name) => `${name(str(e.after.user_id))} joined as ${str(e.after.role)}`,
  "identity.member_role_changed": (e, name) =>
    `changed ${name(str(e.after.user_id))}'s role from ${str(e.before.role)} to ${str(e.after.role)}`,
  "identity.member_removed": (e, name) =>
    e.after.reason === "left"
      ? `${name(str(e.after.user_id))} left (was ${str(e.before.role)})`
      : `removed ${name(str(e.after.user_id))} (was ${str(e.before.role)})`,
  "identity.ownership_transferred": (e, name) =>
    `handed ownership from ${name(str(e.after.from_user_id))} to ${name(str(e.after.to_user_id))}`,
  "identity.api_token_issued": (e) => `made the API token ${str(e.after.name)}`.trim(),
  "identity.api_token_revoked": () => "revoked an API token",
  "bots.bot_created": () => "created a bot",
  "bots.bot_reconfigured": () => "changed a bot's configuration",
  "bots.bot_mode_changed": (e) => `switched a bot from ${str(e.before.mode)} to ${str(e.after.mode)}`,
  "bots.bot_started": () => "started a bot",
  "bots.bot_stopped": () => "stopped a bot",
  "bots.bot_deleted": () => "deleted a bot",
  "bots.strategy_created": (e) => `created the strategy ${str(e.after.name)}`.trim(),
  "bots.strategy_version_published": (e) => `published version ${str(e.after.version)} of a strategy`,
  "bots.strategy_deleted": () => "deleted a strategy",
  "bots.trading_window_scheduled": (e) =>
    `a bot's trading window was planned (${str(e.after.time_zone)}, then ${str(e.after.end_rule)})`,
  "bots.trading_window_cleared": () => "a bot's trading window was cleared",
  "exchange.connection_added": (e) => `added the venue connection ${str(e.after.label)} (${str(e.after.venue)})`,
  "exchange.connection_removed": () => "removed a venue connection (its key destroyed)",
  "exchange.account_opened": (e) => `opened a bot's ${str(e.after.mode)} account on ${str(e.after.symbol)}`,
  "exchange.order_accepted": (e) =>
    `a ${str(e.after.mode)} ${str(e.after.type)} order to ${str(e.after.side)} ${str(e.after.quantity)} ${str(e.after.symbol)}` +
    (e.after.price ? ` at ${str(e.after.price)}` : "") +
    " was accepted",
  "exchange.order_rejected": (e) => `an order was rejected: ${str(e.after.reason) || str(e.after.code)}`,
  "exchange.order_filled": (e) => {
    const fill = (e.after.fill ?? {}) as Record<string, unknown>;
    const done = e.after.status === "filled" ? "filled" : "partly filled";
    return `an order was ${done}: ${str(fill.quantity)} at ${str(fill.price)}`;
  },
  "exchange.order_cancelled": (e) => `an order was cancelled${e.after.reason ? `: ${str(e.after.reason)}` : ""}`,
  "exchange.position_changed": (e) =>
    `a bot's ${str(e.after.mode)} position in ${str(e.after.symbol)} is now ${str(e.after.quantity)} (realised PnL ${str(e.after.realised_pnl)})`,
  "exchange.entries_halted": (e) =>
    `a bot's new entries were halted: loss ${str(e.after.loss)} over the limit ${str(e.after.threshold)}`,
  "exchange.egress_attached": (e) => `a bot's traffic to its venue leaves from ${str(e.after.address)}`,
  "exchange.egress_detached": () => "a bot's egress was detached",
  "compute.window_planned": (e) => `a bot's host was planned to wake for its window (${str(e.after.time_zone)})`,
  "compute.window_cleared": () => "a bot's planned window was cleared",
  "compute.window_missed": () => "a bot's host was not up when its window began",
  "compute.provisioning_requested": (e) => `a bot's host was asked for (${str(e.after.size)}, ${str(e.after.provider)})`,
  "compute.provisioning_failed": (e) => `a bot's host could not be provisioned: ${str(e.after.error)}`,
  "compute.host_provisioned": (e) => `a bot's host came up at ${str(e.after.address)}`,
  "compute.bot_started_on_host": () => "a bot started on its host",
  "compute.bot_stopped_on_host": () => "a bot stopped on its host",
  "compute.host_drained": () => "a bot's host was drained",
  "compute.sleep_deferred": (e) => `a bot's host stayed up: ${str(e.after.reason).replaceAll("_", " ")}`,
  "compute.drain_deadline_reached": () => "a bot's host reached its drain deadline",
  "compute.host_deprovisioned": (e) =>
    e.after.address_kept ? "a bot's host was released, its address kept" : "a bot's host was released",
  "compute.address_verified": (e) => (e.after.ok ? "a bot's host address was verified" : "a bot's host address did not match"),
  "compute.address_released": () => "a bot's address was given up",
  "compute.sleep_policy_set": (e) => `set the drain deadline to ${str(e.after.drain_deadline_minutes)} minutes`,
  "support.ticket_opened": (e) => `opened the support ticket “${str(e.after.subject)}”`,
  "support.message_posted": (e) =>
    e.after.side === "operator" ? "support answered a ticket" : "wrote in a support ticket",
  "support.ticket_status_changed": (e) => `marked a support ticket ${str(e.after.status).replaceAll("_", " ")}`,
  "support.ticket_reopened": () => "reopened a support ticket",
  "support.ticket_assigned": () => "a support ticket was assigned to an operator",
  "support.ticket_auto_closed": () => "a support ticket was closed after 7 days without activity",
  "support.auto_close_warning_sent": () => "a support ticket was warned it closes soon without activity",
  "support.follow_up_opened": () => "a follow-up support ticket was opened",
};

/** `identity.member_role_changed` -> "member role changed" (identity). */
export function actionWords(action: string): string {
  const [context, ...rest] = action.split(".");
  return `${rest.join(".").replaceAll("_", " ")} (${context})`;
}

/** A reference as the audit log writes it (`user:<id>`, `token:<id>`, `system:…`) in words. */
export function refWords(ref: string | null | undefined, people: People): string {
  if (!ref) return "—";
  const [kind, ...rest] = ref.split(":");
  const id = rest.join(":");
  if (kind === "user") return people.get(id) ?? `someone no longer a member (${id.slice(0, 8)})`;
  if (kind === "token") return `API token ${id.slice(0, 8)}`;
  if (kind === "system") return "the platform";
  if (kind === "workspace") return "the workspace";
  if (kind === "email") return id;
  if (kind === "invitation") return `invitation ${id.slice(0, 8)}`;
  return ref;
}

/** Who did it: a member by name; someone outside the workspace acting on its support tickets is
 * plutarc's support (an operator); anyone else no longer a member. */
export function who(e: Entry, people: People): string {
  const [kind, id] = e.actor.split(":");
  if (kind === "user" && id && !people.has(id) && e.action.startsWith("support.")) return "plutarc support";
  return refWords(e.actor, people);
}

export function describe(e: Entry, people: People): string {
  const name = (ref: string | null | undefined) =>
    ref && !ref.includes(":") ? refWords(`user:${ref}`, people) : refWords(ref, people);
  const say = SENTENCES[e.action];
  return say ? say(e, name) : actionWords(e.action);
}

/** Each field the event changed: "role: trader → manager". */
export function changes(e: Entry): string[] {
  const out: string[] = [];
  for (const [key, before] of Object.entries(e.before)) {
    const after = e.after[key];
    if (JSON.stringify(before) !== JSON.stringify(after))
      out.push(`${key.replaceAll("_", " ")}: ${show(before)} → ${show(after)}`);
  }
  return out;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "none";
  if (typeof v === "object") {
    const parts = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null && x !== undefined)
      .map(([k, x]) => `${k.replaceAll("_", " ")} ${show(x)}`);
    return parts.length ? parts.join(", ") : "none";
  }
  return String(v);
}

/** Event types one may filter by, for the filter's suggestions. */
export const KNOWN_ACTIONS = Object.keys(SENTENCES);
