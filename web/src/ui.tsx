// Shared views: labelled fields with their error beside them, and the three states of a read.
import {
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useId,
} from "react";
import type { Problem } from "./api/client";
import type { Resource } from "./data";
import { inWords } from "./words";

type FieldProps = { label: string; error?: string | undefined; hint?: string };

/** What every field shares: its label, its control (given the ids and ARIA state to carry), a
 * hint while there is no error, and the error beside it (`<id>-error`, an alert). */
function Labelled(props: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  control: (aria: { id: string; "aria-invalid"?: true; "aria-describedby"?: string }) => ReactNode;
}) {
  const { id, label, error, hint } = props;
  const described = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {props.control({
        id,
        ...(error ? { "aria-invalid": true as const } : {}),
        ...(described ? { "aria-describedby": described } : {}),
      })}
      {hint && !error && <p id={`${id}-hint`} className="hint">{hint}</p>}
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function Field(props: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const { label, error, hint, ...input } = props;
  const id = useId();
  return <Labelled id={id} label={label} error={error} hint={hint} control={(aria) => <input {...aria} {...input} />} />;
}

/** A text area with its label and its error beside it; `id` names it (and `<id>-error`). */
export function TextArea(props: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement> & { id: string }) {
  const { label, error, hint, id, ...area } = props;
  return <Labelled id={id} label={label} error={error} hint={hint} control={(aria) => <textarea {...aria} {...area} />} />;
}

export function Select(
  props: FieldProps & SelectHTMLAttributes<HTMLSelectElement> & { children: ReactNode },
) {
  const { label, error, hint, children, ...select } = props;
  const id = useId();
  return (
    <Labelled
      id={id}
      label={label}
      error={error}
      hint={hint}
      control={(aria) => (
        <select {...aria} {...select}>
          {children}
        </select>
      )}
    />
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

export function ErrorView({ problem, retry }: { problem: Problem; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <p>{inWords(problem)}</p>
      <p className="code">
        <code>{problem.code}</code>
      </p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A page whose one read is not ready yet: its way back, then loading or the error (with its
 * title), in the page's `main`. Null once ready: the page draws itself. */
export function NotReady<T>(props: { read: Resource<T>; what: string; title: string; back: ReactNode }) {
  const { read } = props;
  if (read.state === "ready") return null;
  return (
    <main>
      {props.back}
      {read.state === "loading" ? (
        <Loading what={props.what} />
      ) : (
        <>
          <h1>{props.title}</h1>
          <ErrorView problem={read.problem} retry={read.reload} />
        </>
      )}
    </main>
  );
}

/** A form-level error: what the API said that no field of the form owns. */
export function FormError({ problem, fields }: { problem: Problem | null; fields: string[] }) {
  if (!problem) return null;
  const owned = (problem.errors ?? []).some((e) => e.field && fields.includes(e.field));
  if (owned) return null;
  return (
    <p className="form-error" role="alert">
      {inWords(problem)}
    </p>
  );
}

/** Earlier and later pages of a paged read, and where we are. */
export function Pager(props: {
  page: number;
  next: string | null | undefined;
  onNext: (cursor: string) => void;
  onBack: () => void;
  label: string;
  newer?: [string, string];
}) {
  const [backWord, nextWord] = props.newer ?? ["Previous page", "Next page"];
  if (props.page === 1 && !props.next) return null;
  return (
    <nav className="pager" aria-label={props.label}>
      <button type="button" disabled={props.page === 1} onClick={props.onBack}>
        {backWord}
      </button>
      <span>Page {props.page}</span>
      <button type="button" disabled={!props.next} onClick={() => props.next && props.onNext(props.next)}>
        {nextWord}
      </button>
    </nav>
  );
}
