import { type FormEvent, useState } from "react";
import { api, call, idempotency, type Problem } from "../api/client";
import { Link, navigate } from "../router";
import { useSession } from "../session";
import { Field, FormError } from "../ui";
import { fieldErrors } from "../words";
import { afterSignIn } from "./Login";

const FIELDS = ["display_name", "email", "password"];

export function RegisterPage() {
  const { signIn } = useSession();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const body = {
      display_name: String(form.get("display_name")),
      email: String(form.get("email")),
      password: String(form.get("password")),
    };
    setBusy(true);
    setProblem(null);
    try {
      await call(
        api.POST("/v1/auth/register", { body, params: { header: idempotency() } }),
      );
      const out = await call(
        api.POST("/v1/auth/login", { body: { email: body.email, password: body.password } }),
      );
      await signIn(out.token);
      navigate(afterSignIn(), null, true);
    } catch (p) {
      setProblem(p as Problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="narrow">
      <form onSubmit={submit} noValidate aria-labelledby="register-title">
        <h1 id="register-title">Create an account</h1>
        <Field label="Your name" name="display_name" autoComplete="name" error={errors.display_name} />
        <Field label="Email" name="email" type="email" autoComplete="email" error={errors.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="At least 12 characters."
          error={errors.password}
        />
        <FormError problem={problem} fields={FIELDS} />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Have an account? <Link href="/login">Log in</Link>
      </p>
    </main>
  );
}
