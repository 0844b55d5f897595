// /invitations/accept#token=... (the link an inviter passes on): sign in, then accept or decline.
import { useState } from "react";
import { api, call, idempotency, type Problem, type Schemas } from "../api/client";
import { Link, navigate } from "../router";
import { useSession } from "../session";
import { ErrorView, Loading } from "../ui";
import { LoginForm } from "./Login";

function tokenFromFragment(): string {
  return new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
}

export function AcceptPage() {
  const { account, checking, refresh } = useSession();
  const [token] = useState(tokenFromFragment);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [answered, setAnswered] = useState<Schemas["InvitationOut"] | null>(null);

  if (!token) {
    return (
      <main className="narrow">
        <h1>Invitation</h1>
        <p className="state error" role="alert">
          This link carries no invitation. Ask the person who invited you for the whole link.
        </p>
      </main>
    );
  }
  if (checking) return <Loading what="your account" />;
  if (!account) {
    const here = location.pathname + location.hash;
    return (
      <main className="narrow">
        <p>You have been invited to a workspace. Log in to answer the invitation.</p>
        <LoginForm onDone={() => undefined} />
        <p>
          New here?{" "}
          <Link href="/register" state={{ next: here }}>
            Create an account
          </Link>
        </p>
      </main>
    );
  }
  async function answer(accept: boolean) {
    setProblem(null);
    const route = accept ? "/v1/invitations/accept" : "/v1/invitations/decline";
    try {
      const out = await call(api.POST(route, { body: { token }, params: { header: idempotency() } }));
      setAnswered(out);
      await refresh();
    } catch (p) {
      setProblem(p as Problem);
    }
  }
  if (answered) {
    const workspaceId = answered.status === "accepted" ? workspaceOf(token) : null;
    return (
      <main className="narrow">
        <h1>Invitation {answered.status}</h1>
        {workspaceId ? (
          <p>
            You are now a {answered.role} of this workspace.{" "}
            <button type="button" onClick={() => navigate(`/w/${workspaceId}`, null, true)}>
              Open the workspace
            </button>
          </p>
        ) : (
          <p>You declined the invitation.</p>
        )}
      </main>
    );
  }
  return (
    <main className="narrow">
      <h1>Invitation</h1>
      <p>Signed in as {account.me.email}. Join the workspace that invited you?</p>
      {problem && <ErrorView problem={problem} />}
      <div className="actions">
        <button type="button" onClick={() => void answer(true)}>
          Accept invitation
        </button>
        <button type="button" onClick={() => void answer(false)}>
          Decline
        </button>
      </div>
    </main>
  );
}

/** The workspace an invitation token names (pli_<workspace hex><invitation hex><secret>). */
function workspaceOf(token: string): string | null {
  const hex = token.replace(/^pli_/, "").slice(0, 32);
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
