// Problem codes in words, for the people reading them; any other code shows the API's detail.
import type { Problem } from "./api/client";

const WORDS: Record<string, string> = {
  "auth.invalid_credentials": "The email or password is wrong.",
  "auth.login_throttled": "Too many failed logins. Wait a few minutes, then try again.",
  "access.forbidden": "Your role in this workspace does not allow this.",
  "access.role_escalation": "You cannot give a role above your own.",
  "access.self_role_change": "You cannot change your own role.",
  "workspace.not_found": "This workspace does not exist, or you are not a member of it.",
  "api.rate_limited": "Too many requests. Slow down and try again.",
  "api.warming_up": "The platform is starting up. Try again in a moment.",
  "policy.unavailable": "Permissions cannot be checked right now. Try again in a moment.",
  "command.pending": "The platform is slow to answer: your change is on its way. Refresh in a moment.",
  "network.unreachable": "The platform cannot be reached. Check your connection.",
  "identity.email_taken": "An account with this email exists already.",
  "identity.already_member": "This person is a member already.",
  "identity.already_invited": "This email has a pending invitation already.",
  "identity.invitation_expired": "This invitation has expired. Ask for a new one.",
  "identity.invitation_revoked": "This invitation was revoked.",
  "identity.invitation_used": "This invitation has been answered already.",
  "identity.last_owner": "A workspace always keeps an owner.",
  "identity.personal_workspace": "A personal workspace has no other members.",
  "identity.invitation_mismatch": "This invitation is not for your account, or the link is damaged.",
  "bots.bot_not_found": "This bot does not exist in this workspace.",
  "bots.strategy_not_found": "This strategy does not exist in this workspace.",
  "bots.already_running": "The bot is running already.",
  "bots.already_stopped": "The bot is stopped already.",
  "bots.not_running": "The bot is not running.",
  "bots.mode_unchanged": "The bot is in this mode already.",
  "bots.connection_required": "Testnet and live trade through a venue connection: give the bot one first.",
  "bots.live_not_confirmed": "Going live needs your confirmation.",
  "bots.version_mismatch": "The bot changed meanwhile. Look at it again, then retry.",
  "bots.bot_running": "Stop the bot first.",
  "compute.host_not_found": "This bot has no host yet.",
  "access.not_an_operator": "Only plutarc's support operators may see this, signed in as themselves.",
  "support.ticket_not_found": "This ticket does not exist in this workspace.",
  "support.status_not_allowed": "A ticket cannot move to that status from where it is now.",
  "support.status_unchanged": "The ticket has that status already.",
  "support.already_assigned": "The ticket is assigned to that operator already.",
  "support.unknown_operator": "That person is not a support operator.",
};

export function inWords(problem: Problem): string {
  return WORDS[problem.code] ?? problem.detail;
}

// Validation messages that name a regular expression rather than say what is wanted.
const BY_TYPE: Record<string, string> = {
  string_pattern_mismatch: "This is not in the expected format.",
};

/** A validator's message as a sentence: "Value error, must not be blank" -> "Must not be blank." */
function plain(message: string): string {
  if (/at least 1 character$/.test(message)) return "This cannot be empty.";
  const text = message.replace(/^Value error, /, "");
  if (text === message) return message;
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith(".") ? "" : "."}`;
}

/** field name -> message, from the problem's `errors` (the API names each bad field). */
export function fieldErrors(problem: Problem | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of problem?.errors ?? []) {
    const field = e.field ?? "";
    const message = (e.type && BY_TYPE[e.type]) || plain(e.message);
    if (field && !(field in out)) out[field] = message;
    // "permissions.2" is about the permissions field too.
    const head = field.split(".")[0] ?? "";
    if (head && !(head in out)) out[head] = message;
  }
  return out;
}
