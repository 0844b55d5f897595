// A read's three states (loading, error, ready) as a hook, reloaded on demand or when deps change.
import { useCallback, useEffect, useState } from "react";
import { asProblem, type Problem } from "./api/client";

export type Resource<T> =
  | { state: "loading"; reload: () => void }
  | { state: "error"; problem: Problem; reload: () => void }
  | { state: "ready"; data: T; reload: () => void };

export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [value, setValue] = useState<
    { state: "loading" } | { state: "error"; problem: Problem } | { state: "ready"; data: T }
  >({ state: "loading" });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setValue({ state: "ready", data }),
      (error: unknown) => live && setValue({ state: "error", problem: asProblem(error) }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  return { ...value, reload } as Resource<T>;
}
