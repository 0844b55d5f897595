// Members, their roles, invitations and the invite form of one workspace. Only the actions the
// caller's permissions allow are shown (GET .../access); the API decides every write again.
import { type FormEvent, useEffect, useState } from "react";
import { api, call, idempotency, type Problem, type Schemas } from "../api/client";
import { type Resource, useAction, useResource } from "../data";
import { useLiveEvents } from "../live";
import { useSession } from "../session";
import { Empty, ErrorView, Field, FormError, Loading, Select } from "../ui";
import { fieldErrors, inWords } from "../words";

type Access = Schemas["AccessOut"];
type Role = Schemas["MemberOut"]["role"];

const path = (workspace_id: string) => ({ params: { path: { workspace_id } } });

export function MembersPage({ workspaceId }: { workspaceId: string }) {
  const access = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/access", path(workspaceId))),
    [workspaceId],
  );
  // Read at the same time as the access (every member may list members): one round trip less.
  const members = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/members", path(workspaceId))),
    [workspaceId],
  );
  return (
    <main>
      <h1>Members</h1>
      {access.state === "loading" && <Loading what="your access" />}
      {access.state === "error" && <ErrorView problem={access.problem} retry={access.reload} />}
      {access.state === "ready" && (
        <Members workspaceId={workspaceId} access={access.data} members={members} />
      )}
    </main>
  );
}

function Members({
  workspaceId,
  access,
  members,
}: {
  workspaceId: string;
  access: Access;
  members: Resource<Schemas["MemberOut"][]>;
}) {
  const may = (p: string) => access.permissions.includes(p);
  const invitations = useResource(
    () =>
      may("invitations:read")
        ? call(api.GET("/v1/workspaces/{workspace_id}/invitations", path(workspaceId)))
        : Promise.resolve(null),
    [workspaceId],
  );
  // Someone joins, leaves, changes role or answers an invitation: shown as it happens.
  useLiveEvents(workspaceId, ["identity.member_", "identity.ownership_", "identity.invitation_"], (type) => {
    if (!type.startsWith("identity.invitation_")) members.reload();
    if (!type.startsWith("identity.member_")) invitations.reload();
  });
  return (
    <>
      <section aria-labelledby="members-title">
        <h2 id="members-title">People</h2>
        {members.state === "loading" && <Loading what="members" />}
        {members.state === "error" && <ErrorView problem={members.problem} retry={members.reload} />}
        {members.state === "ready" &&
          (members.data.length === 0 ? (
            <Empty>No members yet.</Empty>
          ) : (
            <MemberTable
              workspaceId={workspaceId}
              access={access}
              members={members.data}
              changed={members.reload}
            />
          ))}
      </section>
      {invitations.state !== "ready" || invitations.data !== null ? (
        <section aria-labelledby="invitations-title">
          <h2 id="invitations-title">Invitations</h2>
          {invitations.state === "loading" && <Loading what="invitations" />}
          {invitations.state === "error" && (
            <ErrorView problem={invitations.problem} retry={invitations.reload} />
          )}
          {invitations.state === "ready" && invitations.data && (
            <InvitationTable
              workspaceId={workspaceId}
              canRevoke={may("invitations:revoke")}
              invitations={invitations.data}
              changed={invitations.reload}
            />
          )}
        </section>
      ) : null}
      {may("invitations:create") && (
        <InviteForm workspaceId={workspaceId} roles={access.grantable_roles} sent={invitations.reload} />
      )}
    </>
  );
}

function MemberTable(props: {
  workspaceId: string;
  access: Access;
  members: Schemas["MemberOut"][];
  changed: () => void;
}) {
  const { account } = useSession();
  const me = account?.me.user_id;
  const canAssign = props.access.permissions.includes("roles:assign");
  const canRemove = props.access.permissions.includes("members:remove");
  return (
    <table>
      <caption className="sr-only">Members of this workspace and their roles</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Email</th>
          <th scope="col">Role</th>
          {(canAssign || canRemove) && <th scope="col">Actions</th>}
        </tr>
      </thead>
      <tbody>
        {props.members.map((m) => (
          <tr key={m.user_id}>
            <td>
              {m.display_name ?? m.user_id}
              {m.user_id === me && <span className="muted"> (you)</span>}
            </td>
            <td>{m.email ?? "—"}</td>
            <td>
              <span className={`role role-${m.role}`}>{m.role}</span>
            </td>
            {(canAssign || canRemove) && (
              <td>
                {m.user_id !== me && (
                  <MemberActions
                    {...props}
                    member={m}
                    canAssign={canAssign}
                    canRemove={canRemove}
                  />
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MemberActions(props: {
  workspaceId: string;
  access: Access;
  member: Schemas["MemberOut"];
  canAssign: boolean;
  canRemove: boolean;
  changed: () => void;
}) {
  const { member } = props;
  const [role, setRole] = useState<Role>(member.role);
  useEffect(() => setRole(member.role), [member.role]); // changed elsewhere, shown live
  const [problem, setProblem] = useState<Problem | null>(null);
  const [confirming, setConfirming] = useState(false);
  const name = member.display_name ?? member.email ?? member.user_id;
  const params = { path: { workspace_id: props.workspaceId, user_id: member.user_id } };

  async function act(run: () => Promise<unknown>) {
    setProblem(null);
    try {
      await run();
      props.changed();
    } catch (p) {
      setProblem(p as Problem);
    }
  }
  const roles = props.access.grantable_roles.includes(member.role)
    ? props.access.grantable_roles
    : [member.role, ...props.access.grantable_roles];
  return (
    <div className="actions">
      {props.canAssign && (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() =>
              call(
                api.PATCH("/v1/workspaces/{workspace_id}/members/{user_id}", {
                  params: { ...params, header: idempotency() },
                  body: { role },
                }),
              ),
            );
          }}
        >
          <label className="sr-only" htmlFor={`role-${member.user_id}`}>
            Role of {name}
          </label>
          <select
            id={`role-${member.user_id}`}
            value={role}
            onChange={(e) => setRole(e.target.value as Role)}
          >
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="submit" disabled={role === member.role}>
            Change role<span className="sr-only"> of {name}</span>
          </button>
        </form>
      )}
      {props.canRemove &&
        (confirming ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() =>
                void act(() =>
                  call(
                    api.DELETE("/v1/workspaces/{workspace_id}/members/{user_id}", {
                      params: { ...params, header: idempotency() },
                    }),
                  ),
                )
              }
            >
              Confirm removing {name}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            Remove<span className="sr-only"> {name}</span>
          </button>
        ))}
      {problem && (
        <p className="field-error" role="alert">
          {inWords(problem)}
        </p>
      )}
    </div>
  );
}

function InvitationTable(props: {
  workspaceId: string;
  canRevoke: boolean;
  invitations: Schemas["InvitationOut"][];
  changed: () => void;
}) {
  const [problem, setProblem] = useState<Problem | null>(null);
  if (props.invitations.length === 0) return <Empty>No invitations yet.</Empty>;
  async function revoke(invitation_id: string) {
    setProblem(null);
    try {
      await call(
        api.DELETE("/v1/workspaces/{workspace_id}/invitations/{invitation_id}", {
          params: {
            path: { workspace_id: props.workspaceId, invitation_id },
            header: idempotency(),
          },
        }),
      );
      props.changed();
    } catch (p) {
      setProblem(p as Problem);
    }
  }
  return (
    <>
      {problem && (
        <p className="form-error" role="alert">
          {inWords(problem)}
        </p>
      )}
      <table>
        <caption className="sr-only">Invitations to this workspace</caption>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
            {props.canRevoke && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {props.invitations.map((i) => (
            <tr key={i.invitation_id}>
              <td>{i.email}</td>
              <td>{i.role}</td>
              <td>
                <span className={`status status-${i.status}`}>{i.status}</span>
              </td>
              <td>
                <time dateTime={i.expires_at}>{new Date(i.expires_at).toLocaleString()}</time>
              </td>
              {props.canRevoke && (
                <td>
                  {i.status === "pending" && (
                    <button type="button" onClick={() => void revoke(i.invitation_id)}>
                      Revoke<span className="sr-only"> the invitation of {i.email}</span>
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function InviteForm(props: { workspaceId: string; roles: Role[]; sent: () => void }) {
  const [created, setCreated] = useState<Schemas["InvitationCreatedOut"] | null>(null);
  const invite = useAction(async (element: HTMLFormElement) => {
    const form = new FormData(element);
    const days = String(form.get("expires_in_days") ?? "").trim();
    const body = {
      email: String(form.get("email")),
      role: String(form.get("role")) as Role,
      ...(days ? { expires_in_days: Number(days) } : {}),
    };
    setCreated(null);
    const out = await call(
      api.POST("/v1/workspaces/{workspace_id}/invitations", {
        params: { path: { workspace_id: props.workspaceId }, header: idempotency() },
        body,
      }),
    );
    setCreated(out);
    element.reset();
    props.sent();
  });
  const { busy, problem } = invite;
  const errors = fieldErrors(problem);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    void invite.run(e.currentTarget);
  }
  const link = created ? `${location.origin}/invitations/accept#token=${created.token}` : "";
  return (
    <section aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <form onSubmit={submit} noValidate className="grid">
        <Field label="Email" name="email" type="email" error={errors.email} />
        <Select label="Role" name="role" defaultValue={props.roles.at(-1)} error={errors.role}>
          {props.roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </Select>
        <Field
          label="Expires in (days)"
          name="expires_in_days"
          inputMode="numeric"
          placeholder="7"
          error={errors.expires_in_days}
        />
        <FormError problem={problem} fields={["email", "role", "expires_in_days"]} />
        <button type="submit" disabled={busy}>
          {busy ? "Inviting…" : "Send invitation"}
        </button>
      </form>
      {created && (
        <div className="notice" role="status">
          <p>
            Invitation for {created.email} as {created.role} created. Give them this link; it is
            shown only once.
          </p>
          <Field label="Invitation link" readOnly value={link} onFocus={(e) => e.target.select()} />
        </div>
      )}
    </section>
  );
}
