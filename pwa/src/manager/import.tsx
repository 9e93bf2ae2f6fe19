/** Import wizard (R-I1): template, upload, dry run per row, then all-or-nothing or valid rows only. */
import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { errorText } from '../i18n';
import { api, online, requestSync, useSignal } from '../state';
import { download, Panel, reasonOf } from './common';
import { mtCode, useMT } from './i18n';

type Mode = 'dry_run' | 'all_or_nothing' | 'valid_only';

/**
 * POST the file as multipart. The Api client sets the content type itself, so the body is
 * encoded by a Response first, which also yields the boundary in its content type.
 */
async function upload(file: File, mode: Mode): Promise<any> {
  const form = new FormData();
  form.append('mode', mode);
  form.append('file', file, file.name);
  const encoded = new Response(form);
  const type = encoded.headers.get('content-type') ?? 'multipart/form-data';
  const res = await api.raw('POST', '/api/v1/imports/customers', await encoded.blob(), type);
  const text = await res.text();
  let body: any = null;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    throw new ApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? '', body?.error?.details ?? {});
  }
  return body;
}

export function ImportWizard() {
  const { l, m } = useMT();
  const on = useSignal(online);
  const [file, setFile] = useState<File | null>(null);
  const [result, setResult] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  async function run(mode: Mode) {
    if (!file) return;
    setBusy(true);
    setErr('');
    try {
      const r = await upload(file, mode);
      setResult(r);
      if (mode !== 'dry_run' && r.imported > 0) requestSync();
    } catch (e) {
      // all-or-nothing with problem rows: 422 whose details are the same per-row report
      if (e instanceof ApiError && Array.isArray((e.details as any)?.rows)) setResult({ imported: 0, ...e.details, mode });
      else setErr(e instanceof ApiError ? errorText(l, e) : reasonOf(l, e));
    } finally {
      setBusy(false);
    }
  }
  async function template(format: 'xlsx' | 'csv') {
    setErr('');
    try {
      await download(`/api/v1/imports/customers/template?format=${format}`, `customers-template.${format}`);
    } catch (e) {
      setErr(reasonOf(l, e));
    }
  }
  const problems: any[] = (result?.rows ?? []).filter((r: any) => r.status === 'error');
  const done = result && result.mode !== 'dry_run';
  return (
    <div class="steps" data-testid="import-wizard">
      <Panel title={m('step1')}>
        <div class="actions">
          <button class="secondary" onClick={() => template('xlsx')} disabled={!on} data-testid="template-xlsx">{m('templateXlsx')}</button>
          <button class="secondary" onClick={() => template('csv')} disabled={!on} data-testid="template-csv">{m('templateCsv')}</button>
        </div>
      </Panel>
      <Panel title={m('step2')}>
        <label>{m('chooseFile')}<input type="file" accept=".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"
          data-testid="import-file" onChange={(e) => { setFile(e.currentTarget.files?.[0] ?? null); setResult(null); }} /></label>
        <div class="actions">
          <button disabled={!file || busy || !on} onClick={() => run('dry_run')} data-testid="dry-run">{m('dryRun')}</button>
        </div>
        {err && <p class="error" role="alert" data-testid="import-error">{err}</p>}
        {result && (
          <div class="stack" data-testid="import-result" data-mode={result.mode} data-valid={result.valid} data-invalid={result.invalid} data-imported={result.imported}>
            <p><b>{m('rows', { total: result.total, valid: result.valid, invalid: result.invalid })}</b></p>
            {problems.length > 0 && (
              <div class="tbl-wrap"><table class="tbl" data-testid="import-problems">
                <thead><tr><th>{m('row')}</th><th>{m('field')}</th><th>{m('problems')}</th></tr></thead>
                <tbody>{problems.flatMap((r: any) => (r.problems ?? []).map((p: any, i: number) => (
                  <tr class="bad" data-testid="import-problem" data-row={r.row} data-code={p.code}>
                    <td>{i === 0 ? r.row : ''}</td><td>{p.field ? mtCode(l, 'f_', p.field) : ''}</td>
                    <td>{mtCode(l, 'p_', p.code)} <span class="muted small">{p.message}</span></td>
                  </tr>
                )))}</tbody>
              </table></div>
            )}
          </div>
        )}
      </Panel>
      <Panel title={m('step3')}>
        <div class="actions">
          <button disabled={!result || result.imported > 0 || busy || !on || result.valid === 0}
            onClick={() => run('all_or_nothing')} data-testid="import-all">{m('importAll')}</button>
          <button class="secondary" disabled={!result || result.imported > 0 || busy || !on || result.valid === 0}
            onClick={() => run('valid_only')} data-testid="import-valid">{m('importValid')}</button>
        </div>
        {done && (result.imported > 0
          ? <p class="success" data-testid="import-done">{m('imported', { n: result.imported })}</p>
          : <p class="error" data-testid="import-done">{m('nothingImported')}</p>)}
      </Panel>
    </div>
  );
}
