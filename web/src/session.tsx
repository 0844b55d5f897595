// Who is signed in and the workspaces they belong to (the account switcher's list).
import { createContext, useCallback, useContext, useEffect, useState } from "react";
import { api, call, onSignedOut, type Schemas, session } from "./api/client";
import { navigate } from "./router";

export type Account = {
  me: Schemas["UserOut"];
  workspaces: Schemas["MembershipOut"][];
  /** A platform operator: the support queue is theirs (the API decides each of its routes). */
  operator: boolean;
};

type SessionState = {
  account: Account | null;
  checking: boolean;
  refresh: () => Promise<void>;
  signIn: (token: string) => Promise<void>;
  signOut: () => Promise<void>;
};

const Context = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const value = useContext(Context);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

async function loadAccount(): Promise<Account> {
  const [me, workspaces, queue] = await Promise.all([
    call(api.GET("/v1/me")),
    call(api.GET("/v1/me/workspaces")),
    // No route says who is an operator; the queue answers them alone (others: 403).
    api.GET("/v1/support/queue", { params: { query: { limit: 1 } } }).catch(() => null),
  ]);
  return { me, workspaces, operator: queue?.response.status === 200 };
}

export function SessionProvider({ children }: { children: React.ReactNode }) {
  const [account, setAccount] = useState<Account | null>(null);
  const [checking, setChecking] = useState(session.token() !== null);

  const refresh = useCallback(async () => {
    if (!session.token()) {
      setAccount(null);
      return;
    }
    try {
      setAccount(await loadAccount());
    } catch {
      setAccount(null);
    } finally {
      setChecking(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
    return onSignedOut(() => {
      setAccount(null);
      navigate("/login", null, true);
    });
  }, [refresh]);

  const signIn = useCallback(async (token: string) => {
    session.save(token);
    setAccount(await loadAccount());
  }, []);

  const signOut = useCallback(async () => {
    // End the session on the server too; the browser forgets the token whatever the answer.
    try {
      await api.POST("/v1/auth/logout", { params: { header: {} } });
    } finally {
      session.clear();
      setAccount(null);
      navigate("/login", null, true);
    }
  }, []);

  return (
    <Context.Provider value={{ account, checking, refresh, signIn, signOut }}>
      {children}
    </Context.Provider>
  );
}
