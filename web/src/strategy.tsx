// A strategy's spec shown readably, the difference between two versions' specs (each line marked
// by a sign and a word: added, removed, changed; not by colour alone), and the spec's JSON field
// of the forms that publish one (a new strategy, a new version).
import type { Problem, Schemas } from "./api/client";
import { TextArea } from "./ui";
import { fieldErrors } from "./words";

export type Spec = Schemas["StrategySpec"];
type Change = { sign: "+" | "−" | "~"; word: "added" | "removed" | "changed"; what: string };

const show = (v: unknown) => JSON.stringify(v);

export function SpecView({ spec }: { spec: Spec }) {
  return (
    <dl>
      <dt>Timeframe</dt>
      <dd>{spec.timeframe}</dd>
      {spec.components.map((c, i) => (
        <div key={`${c.component}-${i}`}>
          <dt>
            <code>{c.component}</code>
          </dt>
          <dd>
            {Object.keys(c.params ?? {}).length === 0 ? (
              <span className="muted">no parameters</span>
            ) : (
              Object.entries(c.params ?? {}).map(([k, v]) => (
                <span key={k} className="param">
                  {k} = {show(v)}{" "}
                </span>
              ))
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** Components are matched by name (the n-th of a name with the n-th of it in the other spec). */
export function diffSpecs(from: Spec, to: Spec): Change[] {
  const out: Change[] = [];
  if (from.timeframe !== to.timeframe)
    out.push({ sign: "~", word: "changed", what: `timeframe ${from.timeframe} → ${to.timeframe}` });
  const keyed = (s: Spec) => {
    const seen = new Map<string, number>();
    return new Map(
      s.components.map((c) => {
        const n = (seen.get(c.component) ?? 0) + 1;
        seen.set(c.component, n);
        return [n > 1 ? `${c.component} #${n}` : c.component, c.params ?? {}] as const;
      }),
    );
  };
  const a = keyed(from);
  const b = keyed(to);
  for (const [name, params] of a)
    if (!b.has(name)) out.push({ sign: "−", word: "removed", what: `component ${name} ${show(params)}` });
  for (const [name, params] of b) {
    const before = a.get(name);
    if (!before) {
      out.push({ sign: "+", word: "added", what: `component ${name} ${show(params)}` });
      continue;
    }
    for (const k of Object.keys(before))
      if (!(k in params)) out.push({ sign: "−", word: "removed", what: `${name}.${k} = ${show(before[k])}` });
    for (const [k, v] of Object.entries(params)) {
      if (!(k in before)) out.push({ sign: "+", word: "added", what: `${name}.${k} = ${show(v)}` });
      else if (show(before[k]) !== show(v))
        out.push({ sign: "~", word: "changed", what: `${name}.${k} ${show(before[k])} → ${show(v)}` });
    }
  }
  return out;
}

export function DiffView({ changes }: { changes: Change[] }) {
  if (changes.length === 0) return <p className="state empty">The two versions are the same.</p>;
  return (
    <ul className="diff" aria-label="Changes">
      {changes.map((c, i) => (
        <li key={i} className={`diff-${c.word}`}>
          <span aria-hidden="true" className="sign">
            {c.sign}
          </span>{" "}
          <strong>{c.word}</strong> {c.what}
        </li>
      ))}
    </ul>
  );
}

/** The spec typed as JSON text: the parsed spec, or the reason it is not JSON (said beside the
 * field; nothing is sent). */
export function parseSpec(text: string): { spec: Spec } | { error: string } {
  try {
    return { spec: JSON.parse(text) as Spec };
  } catch (err) {
    return { error: `This is not valid JSON: ${(err as Error).message}` };
  }
}

/** The API's problems with the spec (fields "spec", "spec.timeframe", "spec.components.0..."),
 * each naming its place, in one sentence; and the fields they were (for the form's summary). */
export function specErrors(problem: Problem | null): { said?: string; fields: string[] } {
  const found = (problem?.errors ?? []).filter((e) => e.field?.startsWith("spec"));
  if (!found.length) return { fields: [] };
  const said = found
    .map((e) => `${e.field === "spec" ? "" : `${e.field!.slice(5)}: `}${fieldErrors({ ...problem!, errors: [e] })[e.field!]}`)
    .join("; ");
  return { said, fields: found.map((e) => e.field ?? "") };
}

/** The spec's JSON text area, with its error beside it. */
export function SpecField(props: {
  value?: string;
  defaultValue?: string;
  onChange?: (text: string) => void;
  error?: string | undefined;
}) {
  return (
    <TextArea
      id="spec-json"
      label="Spec (JSON)"
      name="spec"
      rows={12}
      spellCheck={false}
      value={props.value}
      defaultValue={props.defaultValue}
      onChange={props.onChange ? (e) => props.onChange!(e.target.value) : undefined}
      error={props.error}
    />
  );
}
