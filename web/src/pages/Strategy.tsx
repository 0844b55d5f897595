// One strategy: its versions newest first, the latest spec shown readably, the difference between
// two chosen versions, and (with strategies:update) a form that publishes a new version.
import { type FormEvent, useState } from "react";
import { api, call, idempotency } from "../api/client";
import { When } from "../bots";
import { useAction, useResource } from "../data";
import { Link } from "../router";
import { DiffView, diffSpecs, parseSpec, type Spec, SpecField, specErrors, SpecView } from "../strategy";
import { Empty, ErrorView, FormError, Loading, Select } from "../ui";

export function StrategyPage(props: { workspaceId: string; strategyId: string }) {
  const path = { workspace_id: props.workspaceId, strategy_id: props.strategyId };
  const strategy = useResource(
    () => call(api.GET("/v1/workspaces/{workspace_id}/strategies/{strategy_id}", { params: { path } })),
    [props.workspaceId, props.strategyId],
  );
  const versions = useResource(
    () =>
      call(
        api.GET("/v1/workspaces/{workspace_id}/strategies/{strategy_id}/versions", {
          params: { path, query: { limit: 200 } },
        }),
      ),
    [props.workspaceId, props.strategyId],
  );
  const access = useResource(
    () =>
      call(
        api.GET("/v1/workspaces/{workspace_id}/access", {
          params: { path: { workspace_id: props.workspaceId } },
        }),
      ),
    [props.workspaceId],
  );
  const reload = () => {
    strategy.reload();
    versions.reload();
  };
  if (strategy.state === "loading")
    return (
      <main>
        <Loading what="the strategy" />
      </main>
    );
  if (strategy.state === "error")
    return (
      <main>
        <h1>Strategy</h1>
        <ErrorView problem={strategy.problem} retry={strategy.reload} />
      </main>
    );
  const s = strategy.data;
  const mayUpdate = access.state === "ready" && access.data.permissions.includes("strategies:update");
  return (
    <main>
      <p>
        <Link href={`/w/${props.workspaceId}/strategies`}>All strategies</Link>
      </p>
      <h1>{s.name}</h1>
      {s.description && <p>{s.description}</p>}
      <section aria-labelledby="latest-title">
        <h2 id="latest-title">Latest version (v{s.latest_version})</h2>
        <SpecView spec={s.spec} />
      </section>
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        {versions.state === "loading" && <Loading what="versions" />}
        {versions.state === "error" && <ErrorView problem={versions.problem} retry={versions.reload} />}
        {versions.state === "ready" &&
          (versions.data.items.length === 0 ? (
            <Empty>No versions.</Empty>
          ) : (
            <>
              <table>
                <caption className="sr-only">Versions of this strategy, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Timeframe</th>
                    <th scope="col">Note</th>
                    <th scope="col">Published</th>
                  </tr>
                </thead>
                <tbody>
                  {versions.data.items.map((v) => (
                    <tr key={v.version}>
                      <td>v{v.version}</td>
                      <td>{v.spec.timeframe}</td>
                      <td>{v.note || <span className="muted">—</span>}</td>
                      <td>
                        <When at={v.published_at} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Compare versions={versions.data.items} />
            </>
          ))}
      </section>
      {mayUpdate && (
        <NewVersion
          workspaceId={props.workspaceId}
          strategyId={props.strategyId}
          latest={s.spec}
          published={reload}
        />
      )}
    </main>
  );
}

function Compare({ versions }: { versions: { version: number; spec: Spec }[] }) {
  const newest = versions[0]?.version ?? 1;
  const [from, setFrom] = useState(versions[1]?.version ?? newest);
  const [to, setTo] = useState(newest);
  const a = versions.find((v) => v.version === from);
  const b = versions.find((v) => v.version === to);
  return (
    <section aria-labelledby="diff-title">
      <h3 id="diff-title">Compare versions</h3>
      <div className="inline">
        <Select label="From version" value={from} onChange={(e) => setFrom(Number(e.target.value))}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              v{v.version}
            </option>
          ))}
        </Select>
        <Select label="To version" value={to} onChange={(e) => setTo(Number(e.target.value))}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              v{v.version}
            </option>
          ))}
        </Select>
      </div>
      {a && b && <DiffView changes={diffSpecs(a.spec, b.spec)} />}
    </section>
  );
}

function NewVersion(props: {
  workspaceId: string;
  strategyId: string;
  latest: Spec;
  published: () => void;
}) {
  const [parseError, setParseError] = useState<string | null>(null);
  const [done, setDone] = useState<number | null>(null);
  const publish = useAction(async (spec: Spec, note: string) => {
    const out = await call(
      api.POST("/v1/workspaces/{workspace_id}/strategies/{strategy_id}/versions", {
        params: {
          path: { workspace_id: props.workspaceId, strategy_id: props.strategyId },
          header: idempotency(),
        },
        body: { spec, note },
      }),
    );
    setDone(out.version);
    props.published();
  });
  const { busy, problem } = publish;
  const fromApi = specErrors(problem);
  const specError = parseError ?? fromApi.said;

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    publish.clear();
    setParseError(null);
    setDone(null);
    const parsed = parseSpec(String(form.get("spec")));
    if ("error" in parsed) {
      setParseError(parsed.error);
      return;
    }
    void publish.run(parsed.spec, String(form.get("note") ?? ""));
  }
  return (
    <section aria-labelledby="new-version-title">
      <h2 id="new-version-title">New version</h2>
      <form onSubmit={submit} noValidate>
        <SpecField defaultValue={JSON.stringify(props.latest, null, 2)} error={specError} />
        <div className="field">
          <label htmlFor="spec-note">Note</label>
          <input id="spec-note" name="note" />
        </div>
        <FormError problem={problem} fields={["note", ...fromApi.fields]} />
        <button type="submit" disabled={busy}>
          {busy ? "Publishing…" : "Publish version"}
        </button>
      </form>
      {done !== null && (
        <p className="notice" role="status">
          Version {done} published.
        </p>
      )}
    </section>
  );
}
