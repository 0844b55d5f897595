import { type FormEvent } from "react";
import { api, call, idempotency } from "../api/client";
import { useAction } from "../data";
import { Link, navigate } from "../router";
import { useSession } from "../session";
import { Field, FormError } from "../ui";
import { fieldErrors } from "../words";
import { afterSignIn } from "./Login";

const FIELDS = ["display_name", "email", "password"];

export function RegisterPage() {
  const { signIn } = useSession();
  const register = useAction(async (form: FormData) => {
    const body = {
      display_name: String(form.get("display_name")),
      email: String(form.get("email")),
      password: String(form.get("password")),
    };
    await call(api.POST("/v1/auth/register", { body, params: { header: idempotency() } }));
    const out = await call(
      api.POST("/v1/auth/login", { body: { email: body.email, password: body.password } }),
    );
    await signIn(out.token);
    navigate(afterSignIn(), null, true);
  });
  const { busy, problem } = register;
  const errors = fieldErrors(problem);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    void register.run(new FormData(e.currentTarget));
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
