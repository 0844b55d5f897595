// The one way the dashboard talks to plutarc: the public API, typed from its OpenAPI document
// (web/openapi.json -> schema.d.ts), with the session token as a bearer.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Problem = Schemas["ProblemOut"];

const TOKEN_KEY = "plutarc.session";

// The session token is the only thing the dashboard keeps in the browser; logout removes it.
export const session = {
  token: (): string | null => localStorage.getItem(TOKEN_KEY),
  save: (token: string): void => localStorage.setItem(TOKEN_KEY, token),
  clear: (): void => localStorage.removeItem(TOKEN_KEY),
};

const listeners = new Set<() => void>();
/** Called when the API says the session ended (401): the app returns to the login page. */
export function onSignedOut(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && request.headers.has("Authorization")) {
      session.clear();
      listeners.forEach((l) => l());
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** A problem from an answer that is not one (a network failure, a proxy's HTML page). */
export function asProblem(error: unknown, response?: Response): Problem {
  if (error && typeof error === "object" && "code" in error && "detail" in error) {
    return error as Problem;
  }
  const status = response?.status ?? 0;
  return {
    type: "about:blank",
    title: "unreachable",
    status,
    code: status ? `http.${status}` : "network.unreachable",
    detail: status ? `the API answered ${status}` : "the API could not be reached",
    instance: "",
  };
}

type Pending = Schemas["AcceptedOut"];

/** Unwraps an openapi-fetch answer: the data, or a thrown Problem. A 202 (the command's reply
 * missed the API's deadline) is a problem too: the change is on its way but not shown yet. */
export async function call<T>(
  promise: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Exclude<T, Pending>> {
  let result;
  try {
    result = await promise;
  } catch {
    throw asProblem(undefined);
  }
  if (result.error !== undefined || !result.response.ok) {
    throw asProblem(result.error, result.response);
  }
  if (result.response.status === 202) {
    throw {
      type: "about:blank",
      title: "pending",
      status: 202,
      code: "command.pending",
      detail: "the platform is slow to answer: the change is on its way; refresh in a moment",
      instance: "",
    } satisfies Problem;
  }
  return result.data as Exclude<T, Pending>;
}

/** A fresh Idempotency-Key per user action, so a retried click never acts twice.
 * (crypto.randomUUID exists only on https and localhost; getRandomValues everywhere.) */
export const idempotency = (): { "Idempotency-Key": string } => {
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  return { "Idempotency-Key": hex };
};
