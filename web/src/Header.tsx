// The header: the account switcher (personal workspace and organisations, with your role in
// each), who is signed in, and logout.
import { type ChangeEvent } from "react";
import { Link, navigate } from "./router";
import { useSession } from "./session";

const KIND = { personal: "Personal", organisation: "Organisation" } as const;

export function Header({ workspaceId }: { workspaceId: string | null }) {
  const { account, signOut } = useSession();
  if (!account) {
    return (
      <header className="top">
        <Link href="/" className="brand">
          plutarc
        </Link>
      </header>
    );
  }
  const current = account.workspaces.find((w) => w.workspace_id === workspaceId);
  const onSwitch = (e: ChangeEvent<HTMLSelectElement>) => {
    const id = e.target.value;
    if (id === "new") navigate("/organisations/new");
    else {
      // The same page in the other workspace: switching is naming it in the path.
      const page = location.pathname.split("/")[3];
      navigate(`/w/${id}${page ? `/${page}` : ""}`);
    }
  };
  return (
    <header className="top">
      <Link href="/" className="brand">
        plutarc
      </Link>
      <div className="switcher">
        <label htmlFor="workspace-switcher">Workspace</label>
        <select id="workspace-switcher" value={current?.workspace_id ?? ""} onChange={onSwitch}>
          {!current && (
            <option value="" disabled>
              Choose a workspace
            </option>
          )}
          {account.workspaces.map((w) => (
            <option key={w.workspace_id} value={w.workspace_id}>
              {w.kind === "personal" ? `${w.name} (personal)` : w.name} — {w.role}
            </option>
          ))}
          <option value="new">New organisation…</option>
        </select>
        {current && (
          <span className="badge" aria-label={`Your role: ${current.role}`}>
            {KIND[current.kind]} · {current.role}
          </span>
        )}
      </div>
      <div className="who">
        <Link href="/notifications">Notifications</Link>
        {account.operator && <Link href="/support/queue">Support queue</Link>}
        <span>{account.me.display_name}</span>
        <button type="button" onClick={() => void signOut()}>
          Log out
        </button>
      </div>
    </header>
  );
}
