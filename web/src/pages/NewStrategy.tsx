// A new strategy, from the browser: a name, a description, and its spec as JSON, started from a
// template (a grid, a moving-average crossover) or blank, with the components it may use listed
// beside it (GET /v1/strategy-components). POST .../strategies makes its version 1; the page
// then shows the strategy. Each problem the API finds is shown beside its field.
import { type FormEvent, useState } from "react";
import { api, call, idempotency, type Schemas } from "../api/client";
import { useAction, useResource } from "../data";
import { Link, navigate } from "../router";
import { parseSpec, type Spec, SpecField, specErrors } from "../strategy";
import { ErrorView, Field, FormError, Loading, Select } from "../ui";
import { fieldErrors } from "../words";

const TEMPLATES: Record<string, { label: string; spec: Spec | null }> = {
  grid: {
    label: "Grid: buy at levels under a reference price, sell each lot a level up (1m)",
    spec: {
      timeframe: "1m",
      components: [
        { component: "grid", params: { levels: 3, spacing_pct: 1, reference: 100, price_decimals: 2 } },
        { component: "fixed_fraction", params: { fraction: 0.05, quantity_decimals: 3 } },
      ],
    },
  },
  trend: {
    label: "Trend: moving-average crossover, 2% of equity a trade (1h)",
    spec: {
      timeframe: "1h",
      components: [
        { component: "ma_crossover", params: { fast: 9, slow: 21 } },
        { component: "fixed_fraction", params: { fraction: 0.02 } },
      ],
    },
  },
  blank: { label: "Blank", spec: null },
};
const BLANK = '{\n  "timeframe": "1h",\n  "components": []\n}';
const text = (spec: Spec | null) => (spec ? JSON.stringify(spec, null, 2) : BLANK);

export function NewStrategyPage({ workspaceId }: { workspaceId: string }) {
  const path = { workspace_id: workspaceId };
  const components = useResource(() => call(api.GET("/v1/strategy-components")), []);
  const [template, setTemplate] = useState("grid");
  const [spec, setSpec] = useState(text(TEMPLATES.grid!.spec));
  const [parseError, setParseError] = useState<string | null>(null);
  const create = useAction(async (body: Schemas["CreateStrategyIn"]) => {
    const made = await call(
      api.POST("/v1/workspaces/{workspace_id}/strategies", { params: { path, header: idempotency() }, body }),
    );
    navigate(`/w/${workspaceId}/strategies/${made.strategy_id}`);
  });
  const { busy, problem } = create;
  const errors = fieldErrors(problem);
  const fromApi = specErrors(problem);

  function choose(name: string) {
    setTemplate(name);
    setSpec(text(TEMPLATES[name]?.spec ?? null));
    setParseError(null);
  }

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    create.clear();
    setParseError(null);
    const parsed = parseSpec(spec);
    if ("error" in parsed) {
      setParseError(parsed.error);
      return;
    }
    const name = String(form.get("name") ?? "").trim();
    void create.run({ name, description: String(form.get("description") ?? ""), spec: parsed.spec });
  }

  return (
    <main>
      <p>
        <Link href={`/w/${workspaceId}/strategies`}>All strategies</Link>
      </p>
      <h1>New strategy</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Name" name="name" error={errors.name} />
        <Field label="Description" name="description" error={errors.description} hint="Optional" />
        <Select label="Start from" value={template} onChange={(e) => choose(e.target.value)}>
          {Object.entries(TEMPLATES).map(([name, t]) => (
            <option key={name} value={name}>
              {t.label}
            </option>
          ))}
        </Select>
        <SpecField value={spec} onChange={setSpec} error={parseError ?? fromApi.said} />
        <FormError problem={problem} fields={["name", "description", ...fromApi.fields]} />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create strategy"}
        </button>
      </form>
      <section aria-labelledby="components-title">
        <h2 id="components-title">Components</h2>
        <p className="muted">
          A spec names a timeframe and its components: signals that decide when to enter and exit, and
          a sizer that decides how much. Each takes the parameters its schema allows.
        </p>
        {components.state === "loading" && <Loading what="the components" />}
        {components.state === "error" && <ErrorView problem={components.problem} retry={components.reload} />}
        {components.state === "ready" && (
          <dl>
            {components.data.map((c) => (
              <div key={c.name}>
                <dt>
                  <code>{c.name}</code> <span className="muted">({c.kind})</span>
                </dt>
                <dd>{c.summary}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>
    </main>
  );
}
