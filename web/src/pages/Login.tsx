import { type FormEvent } from "react";
import { api, call } from "../api/client";
import { useAction } from "../data";
import { Link, navigate } from "../router";
import { useSession } from "../session";
import { Field, FormError } from "../ui";
import { fieldErrors } from "../words";

/** Where to go once signed in: the page that sent the user here, else their workspaces. */
export function afterSignIn(): string {
  const next = (history.state as { next?: string } | null)?.next;
  return next && next.startsWith("/") ? next : "/";
}

export function LoginForm({ onDone }: { onDone: () => void }) {
  const { signIn } = useSession();
  const login = useAction(async (form: FormData) => {
    const body = { email: String(form.get("email")), password: String(form.get("password")) };
    const out = await call(api.POST("/v1/auth/login", { body }));
    await signIn(out.token);
    onDone();
  });
  const { busy, problem } = login;
  const errors = fieldErrors(problem);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    void login.run(new FormData(e.currentTarget));
  }

  return (
    <form onSubmit={submit} noValidate aria-labelledby="login-title">
      <h1 id="login-title">Log in</h1>
      <Field label="Email" name="email" type="email" autoComplete="username" error={errors.email} />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        error={errors.password}
      />
      <FormError problem={problem} fields={["email", "password"]} />
      <button type="submit" disabled={busy}>
        {busy ? "Logging in…" : "Log in"}
      </button>
    </form>
  );
}

export function LoginPage() {
  return (
    <main className="narrow">
      <LoginForm onDone={() => navigate(afterSignIn(), null, true)} />
      <p>
        New here?{" "}
        <Link href="/register" state={history.state}>
          Create an account
        </Link>
      </p>
    </main>
  );
}
