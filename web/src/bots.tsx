// Shared views of bots: the mode badge (a word and a mark, not colour alone), the host state,
// and a time in the viewer's zone with the bot's zone beside it.
import type { Schemas } from "./api/client";

export type Mode = Schemas["BotOut"]["mode"];
export type HostState = Schemas["HostOut"]["state"];
export type Venue = Schemas["Market"]["venue"];

/** The ten venues, in the order the dashboard offers them. */
export const VENUES: Venue[] = ["binance", "bybit", "okx", "kucoin", "deribit", "gemini", "phemex", "bitmex", "kraken", "coinbase"];

const MARK: Record<Mode, string> = { live: "●", testnet: "◐", paper: "○" };

export function ModeBadge({ mode }: { mode: Mode }) {
  return (
    <span className={`badge mode mode-${mode}`}>
      <span aria-hidden="true">{MARK[mode]} </span>
      {mode}
    </span>
  );
}

export function HostBadge({ state }: { state: HostState | null }) {
  if (!state) return <span className="muted">no host yet</span>;
  // `new`: its window is planned and it has never woken, so nothing runs: asleep, to a trader.
  const word = state === "new" ? "asleep (not woken yet)" : state;
  return <span className={`status host-${state}`}>{word}</span>;
}

export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function format(at: Date, zone: string): string {
  return at.toLocaleString(undefined, {
    timeZone: zone,
    dateStyle: "medium",
    timeStyle: "short",
  });
}

/** A moment in the viewer's zone; with the bot's own zone beside it when that differs. */
export function When(props: { at: string | null | undefined; zone?: string | undefined; seconds?: boolean }) {
  const { at, zone } = props;
  if (!at) return <span className="muted">—</span>;
  const date = new Date(at);
  const mine = viewerZone();
  let theirs: string | null = null;
  if (zone && zone !== mine) {
    try {
      theirs = `${format(date, zone)} ${zone}`;
    } catch {
      theirs = null; // a zone this browser does not know
    }
  }
  return (
    <time dateTime={at}>
      {date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: props.seconds ? "medium" : "short" })}
      {theirs && <span className="muted"> ({theirs})</span>}
    </time>
  );
}
