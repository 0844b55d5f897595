import { type FormEvent, useState } from "react";
import { api, call, idempotency, type Problem } from "../api/client";
import { navigate } from "../router";
import { useSession } from "../session";
import { Field, FormError } from "../ui";
import { fieldErrors } from "../words";

export function NewOrganisationPage() {
  const { refresh } = useSession();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get("name"));
    setBusy(true);
    setProblem(null);
    try {
      const ws = await call(
        api.POST("/v1/organisations", { body: { name }, params: { header: idempotency() } }),
      );
      await refresh();
      navigate(`/w/${ws.workspace_id}/members`);
    } catch (p) {
      setProblem(p as Problem);
    } finally {
      setBusy(false);
    }
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
