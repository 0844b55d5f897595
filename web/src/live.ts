// Live updates: the workspace's server-sent events (GET /v1/workspaces/{id}/events), or the
// operators' (GET /v1/support/events), read with
// fetch because EventSource cannot send the bearer header. Resumes after a drop from the last
// event id it saw (Last-Event-ID), backing off up to 10 s; stops for good on 401, 403 or 404.
import { useEffect, useRef } from "react";
import { api } from "./api/client";

const FINAL = new Set([401, 403, 404]);

type Opened = { data?: ReadableStream<Uint8Array> | undefined | null; response: Response };
/** Opens a stream, resuming after event id `last` when there is one. */
type Open = (last: string | undefined, signal: AbortSignal) => Promise<Opened>;

/** Calls `changed(type, data)` for each event whose type starts with one of `prefixes` (`data`
 * the frame's JSON text: the event as the audit log shows it, its payload under `after`), and
 * once each time the stream (re)opens, since events sent while it was closed were not seen. */
export function useLiveEvents(
  workspaceId: string,
  prefixes: string[],
  changed: (type: string, data?: string) => void,
): void {
  useStream(
    workspaceId,
    (last, signal) =>
      api.GET("/v1/workspaces/{workspace_id}/events", {
        params: { path: { workspace_id: workspaceId }, header: last ? { "Last-Event-ID": last } : {} },
        parseAs: "stream",
        signal,
      }),
    prefixes,
    changed,
  );
}

/** The same for the operators' stream of support's events in every workspace
 * (GET /v1/support/events): an operator's queue and ticket pages follow it. */
export function useOperatorEvents(changed: (type: string, data?: string) => void): void {
  useStream(
    "operators",
    (last, signal) =>
      api.GET("/v1/support/events", {
        params: { header: last ? { "Last-Event-ID": last } : {} },
        parseAs: "stream",
        signal,
      }),
    ["support."],
    changed,
  );
}

function useStream(
  streamKey: string,
  open: Open,
  prefixes: string[],
  changed: (type: string, data?: string) => void,
): void {
  const callback = useRef(changed);
  callback.current = changed;
  const opener = useRef(open);
  opener.current = open;
  const key = prefixes.join(",");

  useEffect(() => {
    const abort = new AbortController();
    const wanted = key.split(",");
    let last: string | undefined;
    let delay = 500;

    async function follow(): Promise<void> {
      while (!abort.signal.aborted) {
        try {
          const { data, response } = await opener.current(last, abort.signal);
          if (FINAL.has(response.status)) return;
          if (response.ok && data) {
            delay = 500;
            callback.current("stream.opened");
            await read(data, (id, type, body) => {
              last = id ?? last;
              if (type && wanted.some((p) => type.startsWith(p))) callback.current(type, body);
            });
          }
        } catch {
          if (abort.signal.aborted) return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
    void follow();
    return () => abort.abort();
  }, [streamKey, key]);
}

async function read(
  stream: ReadableStream<Uint8Array>,
  frame: (id: string | undefined, type: string | undefined, data: string | undefined) => void,
): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const text = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id: string | undefined;
      let type: string | undefined;
      let data: string | undefined;
      for (const line of text.split("\n")) {
        if (line.startsWith("id:")) id = line.slice(3).trim();
        else if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data = (data ? data + "\n" : "") + line.slice(5).trim();
      }
      if (id || type) frame(id, type, data);
    }
  }
}
