// A small router over the History API: the app's pages are paths, links are real links.
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";

const subscribers = new Set<() => void>();
window.addEventListener("popstate", () => subscribers.forEach((s) => s()));

export function navigate(to: string, state?: unknown, replace = false): void {
  if (replace) history.replaceState(state ?? null, "", to);
  else history.pushState(state ?? null, "", to);
  subscribers.forEach((s) => s());
}

const subscribe = (cb: () => void) => {
  subscribers.add(cb);
  return () => subscribers.delete(cb);
};

/** The current path (without query or fragment); re-renders on every navigation. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

/** `pattern` like "/w/:id/members" against `path`: the named parts, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const got = path.replace(/\/+$/, "").split("/");
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? "";
    const g = got[i] ?? "";
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(g);
    else if (w !== g) return null;
  }
  return params;
}

export function Link(
  props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; state?: unknown },
) {
  const { state, ...anchor } = props;
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    props.onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(props.href, state);
  };
  return <a {...anchor} onClick={onClick} />;
}
