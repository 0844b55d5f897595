// A strategy's spec shown readably, and the difference between two versions' specs: each line
// marked by a sign and a word (added, removed, changed), not by colour alone.
import type { Schemas } from "./api/client";

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
