/**
 * Submit: the job's fields, its script in an editor with shell colouring, and, as either is edited, what the API will
 * apply (submit-preview.ts: the API's own reading of `#SBATCH` lines, the form's fields winning over them as the
 * body's do). Sent with POST /v1/jobs under an idempotency key (the SDK's submitJob); the API's refusals are shown
 * beside the fields they name; a made job opens its page. `?from=<id>` starts from another job (resubmit): its script
 * and environment, and its fields except those its script's directives set (left to them, as they were).
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ConductorApiError, submitJob } from '../../../sdk/index.js';
import { api, problemFrom } from '../api.js';
import type { components } from '../../../sdk/index.js';
import { adoptStyles } from '../page-styles.js';
import { navigate } from '../router.js';
import type { PageProps } from '../routes.js';
import { ScriptEditor } from '../script-editor.js';
import { useSession } from '../session.js';
import { directiveFields, previewSubmit, type Source } from '../submit-preview.js';
import css from '../console-pages.css' with { type: 'text' };

adoptStyles(css);

const FORM_FIELDS = [
  'name',
  'partition',
  'account',
  'user',
  'cpus_per_task',
  'ntasks_per_node',
  'memory_per_node',
  'time_limit',
  'current_working_directory',
  'standard_output',
  'standard_error',
  'exclusive',
  'requeue',
  'open_mode',
  'environment',
] as const;
type FormField = (typeof FORM_FIELDS)[number];
type Form = Record<FormField, string>;

const EMPTY: Form = Object.fromEntries(FORM_FIELDS.map((field) => [field, ''])) as Form;
const NUMBERS = new Set<FormField>(['cpus_per_task', 'ntasks_per_node']);
const CHOICES = new Set<FormField>(['exclusive', 'requeue']);

const STARTER = `#!/bin/bash
#SBATCH --job-name=hello
#SBATCH --time=00:10:00

echo "hello from $(hostname)"
`;

/**
 * The body the form makes: only the fields filled in, so that an empty one leaves the script's directive (or the
 * API's default) in force; environment as its NAME=value lines.
 */
function bodyOf(form: Form): Record<string, unknown> {
  const job: Record<string, unknown> = {};
  for (const field of FORM_FIELDS) {
    const value = form[field];
    if (value.trim() === '') continue;
    if (NUMBERS.has(field)) job[field] = Number(value);
    else if (CHOICES.has(field)) job[field] = value === 'yes';
    else if (field === 'environment') job[field] = value.split('\n').filter((line) => line.trim() !== '');
    else job[field] = value;
  }
  return job;
}

/** The form field a problem's `field` (`job.time_limit`, `job.environment.2`, `script`) names, if any. */
function formFieldOf(field: string): FormField | 'script' | undefined {
  if (field === 'script') return 'script';
  const name = field.startsWith('job.') ? field.slice(4).split('.')[0] : undefined;
  return (FORM_FIELDS as readonly string[]).includes(name ?? '') ? (name as FormField) : undefined;
}

type JobDetail = components['schemas']['JobDetail'];

/**
 * A job as the form, for a resubmit: its script and environment, and the fields its directives did not set (those
 * stay the script's, so that the directives read as they did). Its output paths are answered expanded (%j replaced
 * by its id), so they are left out: the script's or the defaults apply.
 */
function formOf(job: JobDetail, admin: boolean): Form {
  const fromScript = directiveFields(job.script);
  const form: Form = {
    ...EMPTY,
    name: job.name,
    partition: job.partition,
    account: job.account,
    // A user's jobs are its own: only an admin names whom a job runs as.
    user: admin ? (job.user ?? '') : '',
    cpus_per_task: String(job.cpus_per_task),
    ntasks_per_node: String(job.ntasks_per_node),
    memory_per_node: job.memory_per_node,
    time_limit: job.time_limit,
    current_working_directory: job.current_working_directory ?? '',
    exclusive: job.exclusive ? 'yes' : 'no',
    requeue: job.requeue ? 'yes' : 'no',
    open_mode: job.open_mode,
    environment: Object.entries(job.environment)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n'),
  };
  for (const field of fromScript) if (field in form) form[field as FormField] = '';
  return form;
}

type Errors = Partial<Record<FormField | 'script', string[]>>;

export default function SubmitPage({ query }: PageProps) {
  const session = useSession();
  const from = query.get('from');
  const [form, setForm] = useState<Form>(EMPTY);
  const [script, setScript] = useState(STARTER);
  // undefined: still reading the job to start from.
  const [loaded, setLoaded] = useState<boolean | undefined>(from ? undefined : true);
  const [fromError, setFromError] = useState<string | undefined>(undefined);
  const [errors, setErrors] = useState<Errors>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  // Set when a refusal came back: the first field it names takes the focus once shown.
  const [refused, setRefused] = useState(0);
  useEffect(() => {
    if (refused === 0) return;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], [data-testid=submit-error]')?.focus();
  }, [refused]);

  useEffect(() => {
    if (!from) return;
    void (async () => {
      const { data, error, response } = await api.GET('/v1/jobs/{id}', { params: { path: { id: from } } });
      if (data) {
        setForm(formOf(data, session.kind === 'admin'));
        setScript(data.script);
      } else setFromError(problemFrom(error, response).message);
      setLoaded(true);
    })();
  }, [from]);

  const preview = useMemo(() => {
    try {
      return previewSubmit({ job: bodyOf(form), script }, session.account);
    } catch (error) {
      return { ok: false as const, problems: [{ field: '', message: (error as Error).message }] };
    }
  }, [form, script, session.account]);

  const set = (field: FormField) => (event: Event) => {
    const value = (event.currentTarget as HTMLInputElement).value;
    setForm((old) => ({ ...old, [field]: value }));
    setErrors((old) => ({ ...old, [field]: undefined }));
  };
  const onScript = (text: string) => {
    setScript(text);
    setErrors((old) => (old.script ? { ...old, script: undefined } : old));
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral([]);
    try {
      // A new key per press: the same key for another body is refused; submitJob keeps it across its retries.
      const job = await submitJob(api, { job: bodyOf(form), script } as Parameters<typeof submitJob>[1], {
        retries: 2,
      });
      navigate(`/ui/jobs/${encodeURIComponent(job.id)}`);
    } catch (failure) {
      const next: Errors = {};
      const rest: string[] = [];
      if (failure instanceof ConductorApiError && failure.errors.length > 0) {
        for (const { field, message } of failure.errors) {
          const target = formFieldOf(field);
          if (target) (next[target] ??= []).push(message);
          else rest.push(`${field}: ${message}`);
        }
      } else rest.push((failure as Error).message);
      setErrors(next);
      setGeneral(rest);
      setRefused((count) => count + 1);
    } finally {
      setBusy(false);
    }
  };

  if (loaded === undefined) return <p class="loading">Loading job {from}…</p>;

  const field = (name: FormField, label: string, input: (props: FieldProps) => JSX.Element, hint?: string) => (
    <Field name={name} label={label} errors={errors[name]} hint={hint}>
      {input}
    </Field>
  );
  const text = (name: FormField, placeholder?: string) => (props: FieldProps) => (
    <input type="text" value={form[name]} onInput={set(name)} placeholder={placeholder} {...props} />
  );
  const number = (name: FormField) => (props: FieldProps) => (
    <input type="number" min={1} step={1} inputMode="numeric" value={form[name]} onInput={set(name)} {...props} />
  );
  const choice = (name: FormField, options: string[]) => (props: FieldProps) => (
    <select value={form[name]} onChange={set(name)} {...props}>
      <option value="">(script or default)</option>
      {options.map((option) => (
        <option key={option} value={option}>
          {option}
        </option>
      ))}
    </select>
  );

  return (
    <section class="submit-page">
      <h1>Submit a job</h1>
      {from && (
        <p class="notice" data-testid="resubmit-note">
          {fromError
            ? `Job ${from} could not be read: ${fromError}`
            : `Starting from job ${from}: its script, environment and fields (those its directives set are left to them). Its output file patterns are not kept apart from their expansion, so they are left to the script or the defaults.`}
        </p>
      )}
      <form ref={formRef} class="submit-form" onSubmit={(event) => void submit(event)} noValidate>
        <fieldset class="submit-fields">
          <legend>Job</legend>
          {field('name', 'Name', text('name', 'job'))}
          {field('partition', 'Partition', text('partition', 'default'))}
          {field('account', 'Account', text('account', session.account ?? 'default'))}
          {session.kind === 'admin' &&
            field('user', 'User', text('user', 'root'), 'The Unix login it runs as (an admin may name any but root).')}
          {field('ntasks_per_node', 'Tasks per node', number('ntasks_per_node'))}
          {field('cpus_per_task', 'CPUs per task', number('cpus_per_task'))}
          {field('memory_per_node', 'Memory per node', text('memory_per_node', '1G'), 'e.g. 512M, 16G')}
          {field('time_limit', 'Time limit', text('time_limit', '1:00:00'), 'Slurm time: M, H:M:S, D-H:M:S, UNLIMITED')}
          {field('current_working_directory', 'Working directory', text('current_working_directory', '/home/…'))}
          {field(
            'standard_output',
            'Standard output',
            text('standard_output', 'slurm-%j.out'),
            '%j job id, %x name, %u user, %N node',
          )}
          {field('standard_error', 'Standard error', text('standard_error', 'as standard output'))}
          {field('open_mode', 'Open mode', choice('open_mode', ['truncate', 'append']))}
          {field('exclusive', 'Exclusive node', choice('exclusive', ['yes', 'no']))}
          {field('requeue', 'Requeue on node loss', choice('requeue', ['yes', 'no']))}
          {field(
            'environment',
            'Environment',
            (props) => (
              <textarea
                rows={4}
                value={form.environment}
                onInput={set('environment')}
                placeholder="NAME=value"
                spellcheck={false}
                {...props}
              />
            ),
            'One NAME=value a line.',
          )}
        </fieldset>
        <div class="submit-script">
          <p class="label" id="script-label" aria-hidden="true">
            Script
          </p>
          <p class="hint" id="script-hint">
            <code>#SBATCH</code> lines before the first command are read as sbatch reads them; a field filled in above
            wins over them.
          </p>
          <ScriptEditor
            initial={script}
            onChange={onScript}
            label="Script"
            describedBy={errors.script ? ['script-hint', 'script-error'] : ['script-hint']}
            invalid={Boolean(errors.script)}
          />
          <FieldErrors id="script-error" errors={errors.script} />
          <div class="submit-actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Submitting…' : 'Submit'}
            </button>
          </div>
          {general.length > 0 && (
            <ul class="error" role="alert" data-testid="submit-error" tabIndex={-1}>
              {general.map((message, i) => (
                <li key={i}>{message}</li>
              ))}
            </ul>
          )}
          <PreviewPanel preview={preview} />
        </div>
      </form>
    </section>
  );
}

interface FieldProps {
  id: string;
  name: string;
  'aria-describedby'?: string;
  'aria-invalid'?: 'true';
}

function Field(props: {
  name: FormField;
  label: string;
  errors: string[] | undefined;
  hint: string | undefined;
  children: (props: FieldProps) => JSX.Element;
}) {
  const id = `field-${props.name}`;
  const described = [props.hint && `${id}-hint`, props.errors && `${id}-error`].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children({
        id,
        name: props.name,
        ...(described ? { 'aria-describedby': described } : {}),
        ...(props.errors ? { 'aria-invalid': 'true' as const } : {}),
      })}
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      <FieldErrors id={`${id}-error`} errors={props.errors} />
    </div>
  );
}

function FieldErrors({ id, errors }: { id: string; errors: string[] | undefined }) {
  if (!errors) return null;
  return (
    <p class="error field-error" id={id} data-testid={id}>
      {errors.join('; ')}
    </p>
  );
}

function sourceText(source: Source): string {
  if (source.kind === 'form') return 'form';
  if (source.kind === 'default') return 'default';
  if (source.kind === 'computed') return `from ${source.from}`;
  return source.directives.map((directive) => `line ${directive.line}: ${directive.option}`).join(', ');
}

function PreviewPanel({ preview }: { preview: ReturnType<typeof previewSubmit> }) {
  return (
    <section class="submit-preview" aria-labelledby="preview-title" data-testid="preview">
      <h2 id="preview-title">What will be applied</h2>
      {!preview.ok ? (
        <>
          <p>The API will refuse this submit:</p>
          <ul class="error" data-testid="preview-problems">
            {preview.problems.map((problem, i) => (
              <li key={i}>
                {problem.field && <code>{problem.field}</code>} {problem.message}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Value</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                {preview.fields.map((row) => (
                  <tr key={row.field} data-field={row.field} class={`from-${row.source.kind}`}>
                    <th scope="row">
                      <code>{row.field}</code>
                    </th>
                    <td class="value">{row.value}</td>
                    <td class="source">{sourceText(row.source)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {preview.warnings.length > 0 && (
            <>
              <h3>Warnings</h3>
              <ul class="warnings" data-testid="preview-warnings">
                {preview.warnings.map((warning, i) => (
                  <li key={i}>{warning}</li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}
