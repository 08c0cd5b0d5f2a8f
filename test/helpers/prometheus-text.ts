/**
 * Prometheus text exposition (format 0.0.4) read by a parser, not regular expressions: each line is scanned character
 * by character as the format's grammar says (metric name, label set with its escapes, value, optional timestamp), and
 * a histogram's `_bucket`, `_sum` and `_count` series are joined by their labels without `le`. The one npm parser
 * (parse-prometheus-text-format) merges a labelled histogram's series into one, losing its labels: unusable here.
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

export interface ParsedSample {
  labels: Record<string, string>;
  /** Counters, gauges and untyped. */
  value?: number;
  /** Histograms: the count, the sum, and the cumulative count at each upper bound (`le`). */
  count?: number;
  sum?: number;
  buckets?: Record<string, number>;
}

export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  samples: ParsedSample[];
}

export class Exposition {
  readonly families = new Map<string, ParsedFamily>();

  constructor(text: string) {
    for (const [index, line] of text.split('\n').entries()) {
      try {
        this.#read(line);
      } catch (error) {
        throw new Error(`line ${index + 1} (${JSON.stringify(line)}): ${(error as Error).message}`);
      }
    }
  }

  /** The family, failing when it is not exported. */
  family(name: string): ParsedFamily {
    const found = this.families.get(name);
    if (!found) throw new Error(`${name} is not exported; exported: ${[...this.families.keys()].join(', ')}`);
    return found;
  }

  /** The samples whose labels include all of `labels`. */
  samples(name: string, labels: Record<string, string> = {}): ParsedSample[] {
    return this.family(name).samples.filter((sample) =>
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
  }

  /** The value (a histogram's count) of the one sample with these labels; 0 when none has them. */
  value(name: string, labels: Record<string, string> = {}): number {
    const found = this.samples(name, labels);
    if (found.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${found.length} samples`);
    return found[0]?.value ?? found[0]?.count ?? 0;
  }

  #read(line: string): void {
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const [, keyword, name, ...rest] = line.split(' ');
      if (keyword === 'HELP') this.#familyOf(name!).help = rest.join(' ');
      else if (keyword === 'TYPE') this.#familyOf(name!).type = rest[0]!;
      return;
    }
    const { name, labels, value } = scanSample(line);
    const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
    const base = histogram?.[1];
    if (base !== undefined && this.families.get(base)?.type === 'histogram') {
      const { le, ...series } = labels;
      const sample = this.#sampleOf(base, series);
      if (histogram![2] === 'bucket') (sample.buckets ??= {})[le!] = value;
      else sample[histogram![2] as 'sum' | 'count'] = value;
      return;
    }
    this.#sampleOf(name, labels).value = value;
  }

  #familyOf(name: string): ParsedFamily {
    let family = this.families.get(name);
    if (!family) this.families.set(name, (family = { name, help: '', type: 'untyped', samples: [] }));
    return family;
  }

  #sampleOf(name: string, labels: Record<string, string>): ParsedSample {
    const family = this.#familyOf(name);
    const key = JSON.stringify(Object.entries(labels).sort());
    let sample = family.samples.find((found) => JSON.stringify(Object.entries(found.labels).sort()) === key);
    if (!sample) family.samples.push((sample = { labels }));
    return sample;
  }
}

/** `name{label="value",…} value [timestamp]`, label values unescaped (\\, \", \n). */
function scanSample(line: string): { name: string; labels: Record<string, string>; value: number } {
  let at = 0;
  const nameEnd = (() => {
    while (at < line.length && /[A-Za-z0-9_:]/.test(line[at]!)) at += 1;
    return at;
  })();
  const name = line.slice(0, nameEnd);
  if (!name) throw new Error('no metric name');
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at += 1;
    while (line[at] !== '}') {
      const eq = line.indexOf('=', at);
      if (eq < 0 || line[eq + 1] !== '"') throw new Error('a label without ="value"');
      const label = line.slice(at, eq).trim();
      at = eq + 2;
      let value = '';
      for (; line[at] !== '"'; at += 1) {
        if (at >= line.length) throw new Error('an unterminated label value');
        if (line[at] === '\\') {
          at += 1;
          value += line[at] === 'n' ? '\n' : line[at];
        } else value += line[at];
      }
      labels[label] = value;
      at += 1;
      if (line[at] === ',') at += 1;
      else if (line[at] !== '}') throw new Error('labels not separated by a comma');
    }
    at += 1;
  }
  const [valueText] = line.slice(at).trim().split(/\s+/);
  const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
  if (valueText === undefined || (Number.isNaN(value) && valueText !== 'NaN')) throw new Error('no value');
  return { name, labels, value };
}
