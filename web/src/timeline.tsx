// A bot's session windows on a week (Monday to Sunday) in the bot's own zone, as its
// configuration says them (`config.sessions`): each window on each of its days, an overnight one
// carried into the next morning. The drawing is decoration (aria-hidden); the list under it says
// the same in words, with each window's time in the viewer's zone beside it, this week. The
// session rules themselves (which window is next, when the host wakes) are the services': the
// pages show the bot's `window` and the compute API's host state and next wake beside this, not
// a computation here. The configuration has no holidays or exceptions to draw.
import type { Schemas } from "./api/client";
import { viewerZone } from "./bots";

type Sessions = Schemas["TradingSessions"];
type SessionWindow = Schemas["SessionWindow"];
type Day = SessionWindow["days"][number];

const DAYS: Day[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAME: Record<Day, string> = {
  mon: "Mon",
  tue: "Tue",
  wed: "Wed",
  thu: "Thu",
  fri: "Fri",
  sat: "Sat",
  sun: "Sun",
};
const MINUTES = 24 * 60;

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** A window's stretch on one day of the drawing: [start, end) in minutes of that day. */
type Bar = { day: number; start: number; end: number; window: number };

/** Each window on each of its days; an overnight one ends on the next day (Sunday's on Monday). */
export function bars(windows: SessionWindow[]): Bar[] {
  const out: Bar[] = [];
  windows.forEach((w, window) => {
    const start = minutes(w.start);
    const end = minutes(w.end);
    for (const name of w.days) {
      const day = DAYS.indexOf(name);
      if (w.overnight) {
        out.push({ day, start, end: MINUTES, window });
        if (end > 0) out.push({ day: (day + 1) % 7, start: 0, end, window });
      } else if (end > start) {
        out.push({ day, start, end, window });
      }
    }
  });
  return out;
}

// Wall time in a zone to an instant, with the browser's own zone data (Intl): the zone's offset
// at a guess, then again at the corrected instant (right across a change of offset but in the
// hour a clock skips or repeats).
function offsetMs(at: number, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"));
  return wall - Math.floor(at / 60_000) * 60_000;
}

function instantOf(y: number, m: number, d: number, minute: number, zone: string): number {
  const guess = Date.UTC(y, m, d, 0, minute);
  const first = guess - offsetMs(guess, zone);
  return guess - offsetMs(first, zone);
}

/** This week's Monday in `zone` as [year, month, day] (calendar arithmetic in UTC). */
function mondayIn(zone: string, now: Date): [number, number, number] {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
    weekday: "short",
  }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const weekday = DAYS.indexOf(get("weekday").toLowerCase().slice(0, 3) as Day);
  const [year, month, day] = [Number(get("year")), Number(get("month")) - 1, Number(get("day"))];
  const monday = new Date(Date.UTC(year, month, day - weekday));
  return [monday.getUTCFullYear(), monday.getUTCMonth(), monday.getUTCDate()];
}

/** "Mon 01:45" for an instant, in the viewer's zone. */
function inViewerZone(at: number): string {
  return new Date(at).toLocaleString(undefined, {
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
}

/** Each day a window starts on, this week, from its start to its end, in the viewer's zone. */
function viewerTimes(w: SessionWindow, zone: string, now: Date): string | null {
  try {
    const [y, m, d] = mondayIn(zone, now);
    const start = minutes(w.start);
    const end = minutes(w.end) + (w.overnight ? MINUTES : 0);
    return w.days
      .map((name) => {
        const day = d + DAYS.indexOf(name);
        const from = inViewerZone(instantOf(y, m, day, start, zone));
        return `${from}–${inViewerZone(instantOf(y, m, day, end, zone))}`;
      })
      .join(", ");
  } catch {
    return null; // a zone this browser does not know
  }
}

function describe(w: SessionWindow): string {
  return `${w.days.map((d) => DAY_NAME[d]).join(", ")} ${w.start}–${w.end}`;
}

/** The week of a bot's sessions. `compact`: one strip for a table cell, with its words under it. */
export function WeekTimeline(props: { sessions: Sessions | null | undefined; compact?: boolean }) {
  const { sessions, compact } = props;
  const windows = sessions?.windows ?? [];
  const zone = sessions?.time_zone ?? "UTC";
  const alwaysOn = !sessions || sessions.always_on !== false || windows.length === 0;
  const mine = viewerZone();
  const now = new Date();
  const drawn = alwaysOn ? [] : bars(windows);
  if (compact) {
    return (
      <div className="week week-compact">
        {!alwaysOn && (
          <div className="week-strip" aria-hidden="true">
            {drawn.map((b, i) => (
              <span
                key={i}
                className="week-bar"
                style={{
                  left: `${((b.day * MINUTES + b.start) / (7 * MINUTES)) * 100}%`,
                  width: `${((b.end - b.start) / (7 * MINUTES)) * 100}%`,
                }}
              />
            ))}
          </div>
        )}
        <span className="week-words">
          {alwaysOn
            ? "Always on"
            : `${windows.map((w) => describe(w) + (w.overnight ? " (overnight)" : "")).join("; ")} ${zone}`}
        </span>
      </div>
    );
  }
  return (
    <figure className="week">
      <figcaption>
        {alwaysOn ? "Always on: no session windows." : `The week in ${zone}, the bot's zone`}
        {!alwaysOn && zone !== mine && <span className="muted"> (yours: {mine})</span>}
      </figcaption>
      {!alwaysOn && (
        <div className="week-grid" aria-hidden="true">
          <div className="week-row week-hours">
            <span className="week-label" />
            <span className="week-track">
              {[0, 6, 12, 18].map((h) => (
                <span key={h} className="week-tick" style={{ left: `${(h / 24) * 100}%` }}>
                  {String(h).padStart(2, "0")}
                </span>
              ))}
            </span>
          </div>
          {DAYS.map((name, day) => (
            <div key={name} className="week-row">
              <span className="week-label">{DAY_NAME[name]}</span>
              <span className="week-track">
                {drawn
                  .filter((b) => b.day === day)
                  .map((b, i) => (
                    <span
                      key={i}
                      className="week-bar"
                      style={{
                        left: `${(b.start / MINUTES) * 100}%`,
                        width: `${((b.end - b.start) / MINUTES) * 100}%`,
                      }}
                    />
                  ))}
              </span>
            </div>
          ))}
        </div>
      )}
      {!alwaysOn && (
        <ul className="windows week-list">
          {windows.map((w, i) => {
            const theirs = zone !== mine ? viewerTimes(w, zone, now) : null;
            return (
              <li key={i}>
                <span>{describe(w)}</span>
                {w.overnight && <span> (overnight, ends the next day)</span>}
                {theirs && <span className="muted"> · your time this week: {theirs}</span>}
              </li>
            );
          })}
        </ul>
      )}
    </figure>
  );
}
