// A read's three states (loading, error, ready) as a hook, reloaded on demand or when deps change.
import { useCallback, useEffect, useRef, useState } from "react";
import { asProblem, type Problem } from "./api/client";

export type Resource<T> =
  | { state: "loading"; reload: () => void }
  | { state: "error"; problem: Problem; reload: () => void }
  | { state: "ready"; data: T; reload: () => void };

export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  // Each answer remembers the deps it was read for: once they change (another page, filter or
  // workspace) the view is loading, in the same render, never the old answer under new names.
  // A reload with the same deps keeps the old answer in view until the new one arrives.
  const [value, setValue] = useState<
    (
      | { state: "loading" }
      | { state: "error"; problem: Problem }
      | { state: "ready"; data: T }
    ) & { deps: unknown[] }
  >({ state: "loading", deps });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setValue({ state: "ready", data, deps }),
      (error: unknown) => live && setValue({ state: "error", problem: asProblem(error), deps }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  const current = value.deps.length === deps.length && value.deps.every((d, i) => Object.is(d, deps[i]));
  if (!current) return { state: "loading", reload };
  const { deps: _read, ...shown } = value;
  return { ...shown, reload } as Resource<T>;
}

export type Action<A extends unknown[]> = {
  /** Runs the action unless one is running: true when it succeeded, false when it failed (the
   * problem is kept) or was already running. */
  run: (...args: A) => Promise<boolean>;
  busy: boolean;
  problem: Problem | null;
  clear: () => void;
};

/** A write's two states beside its form: busy while it runs (its button disabled), and the
 * problem it ended with (shown beside the fields it names, else above the button). */
export function useAction<A extends unknown[]>(act: (...args: A) => Promise<unknown>): Action<A> {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const running = useRef(false);
  const latest = useRef(act);
  latest.current = act;
  const run = useCallback(async (...args: A) => {
    if (running.current) return false;
    running.current = true;
    setBusy(true);
    setProblem(null);
    try {
      await latest.current(...args);
      return true;
    } catch (error) {
      setProblem(asProblem(error));
      return false;
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setProblem(null), []);
  return { run, busy, problem, clear };
}

export type Pages = {
  cursor: string | undefined;
  page: number;
  next: (cursor: string) => void;
  back: () => void;
  reset: () => void;
};

/** Paging by the API's cursors: the cursor of the page shown, and the ones before it. */
export function usePages(): Pages {
  const [stack, setStack] = useState<string[]>([]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length + 1,
    next: (cursor) => setStack((s) => [...s, cursor]),
    back: () => setStack((s) => s.slice(0, -1)),
    reset: () => setStack([]),
  };
}
