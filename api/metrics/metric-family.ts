/**
 * A metric family as the Prometheus text exposition format (version 0.0.4) writes it: a name, its help, its type,
 * and labelled samples. The Worker writes its gauges this way, with no metrics library (prom-client needs Node); the
 * Node host hands the same families to prom-client, so both hosts export one set of names.
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  /** `conductor_…`, in Prometheus's base units (seconds, bytes). */
  name: string;
  help: string;
  type: 'gauge';
  samples: Sample[];
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The families as exposition text, each with its HELP and TYPE lines, ending in a newline. */
export function renderFamilies(families: MetricFamily[]): string {
  return families
    .map((family) =>
      [
        `# HELP ${family.name} ${escapeHelp(family.help)}`,
        `# TYPE ${family.name} ${family.type}`,
        ...family.samples.map((sample) => `${family.name}${renderLabels(sample.labels)} ${renderValue(sample.value)}`),
      ].join('\n'),
    )
    .map((block) => `${block}\n`)
    .join('');
}

function renderLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

const renderValue = (value: number): string =>
  Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value);

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
