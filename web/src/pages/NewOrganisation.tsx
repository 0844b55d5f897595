import { type FormEvent } from "react";
import { api, call, idempotency } from "../api/client";
import { useAction } from "../data";
import { navigate } from "../router";
import { useSession } from "../session";
import { Field, FormError } from "../ui";
import { fieldErrors } from "../words";

export function NewOrganisationPage() {
  const { refresh } = useSession();
  const create = useAction(async (name: string) => {
    const ws = await call(
      api.POST("/v1/organisations", { body: { name }, params: { header: idempotency() } }),
    );
    await refresh();
    navigate(`/w/${ws.workspace_id}/members`);
  });
  const { busy, problem } = create;
  const errors = fieldErrors(problem);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    void create.run(String(new FormData(e.currentTarget).get("name")));
  }
  return (
    <main className="narrow">
      <form onSubmit={submit} noValidate aria-labelledby="org-title">
        <h1 id="org-title">New organisation</h1>
        <p>You will be its owner, and can invite others.</p>
        <Field label="Name" name="name" error={errors.name} />
        <FormError problem={problem} fields={["name"]} />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create organisation"}
        </button>
      </form>
    </main>
  );
}
