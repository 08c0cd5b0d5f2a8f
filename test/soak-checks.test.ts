/**
 * The soak's checks (bench/soak/soak-checks.ts) each find the violation they are for: a run that broke a guarantee
 * must not pass. Made-up evidence, in the shapes the soak gathers; the ledger through its own parser.
 */
import { describe, expect, it } from 'vitest';
import { expectedOutput, soakJob } from '../bench/soak/job-mix.js';
import { readLedger } from '../bench/soak/ledger.js';
import { checkSoak, type JobRow, type SoakEvidence } from '../bench/soak/soak-checks.js';

const SEED = 7;
// Two jobs that exist in every case: soak-0 (requeue, as every third) and soak-1.
const [first, second] = [soakJob(SEED, 0), soakJob(SEED, 1)];

const row = (id: string, name: string, overrides: Partial<JobRow> = {}): JobRow => ({
  id,
  name,
  state: 'COMPLETED',
  attempt: 1,
  node: 'n1',
  exitStatus: 0,
  requeue: name === 'soak-0',
  errorMsg: null,
  ...overrides,
});

/** A clean run: both submits acknowledged, both jobs COMPLETED on n1 with their ledger lines and output. */
function evidence(overrides: { jobs?: JobRow[]; ledger?: string[]; outputs?: [string, string][] } = {}): SoakEvidence {
  const ledger = readLedger(
    (
      overrides.ledger ?? ['1 1 n1 start 1000', '1 1 n1 end 1000 2000 0', '2 1 n1 start 1500', '2 1 n1 end 1500 2500 0']
    ).join('\n'),
  );
  return {
    seed: SEED,
    submits: [
      { index: 0, jobId: '1' },
      { index: 1, jobId: '2' },
    ],
    jobs: overrides.jobs ?? [row('1', 'soak-0'), row('2', 'soak-1')],
    ledger: ledger.attempts,
    malformedLedgerLines: ledger.malformed,
    outputs: new Map(
      overrides.outputs ?? [
        ['1', expectedOutput(first, 1)],
        ['2', expectedOutput(second, 1)],
      ],
    ),
  };
}

const findings = (input: SoakEvidence) => checkSoak(input).counts;

describe('the soak checks', () => {
  it('pass a clean run', () => {
    const { counts, details } = checkSoak(evidence());
    expect(details).toEqual([]);
    expect(counts).toMatchObject({ submitted: 2, acknowledged: 2, jobs: 2, terminal: 2, stuck: 0 });
  });

  it('find a submit that made two jobs, one acknowledged as another job, and a job nobody submitted', () => {
    const twice = evidence({ jobs: [row('1', 'soak-0'), row('2', 'soak-1'), row('3', 'soak-1')] });
    expect(findings(twice)['submits not exactly one job']).toBe(1);
    const lost = evidence({ jobs: [row('1', 'soak-0')] });
    expect(findings(lost)['submits not exactly one job']).toBe(1);
    const stranger = evidence({ jobs: [row('1', 'soak-0'), row('2', 'soak-1'), row('9', 'soak-99')] });
    expect(findings(stranger)['submits not exactly one job']).toBe(1);
  });

  it('find a job that is not terminal', () => {
    const counts = findings(evidence({ jobs: [row('1', 'soak-0'), row('2', 'soak-1', { state: 'RUNNING' })] }));
    expect(counts.stuck).toBe(1);
  });

  it('find a state that does not match the ledger', () => {
    const neverEnded = evidence({ ledger: ['1 1 n1 start 1000', '1 1 n1 end 1000 2000 0', '2 1 n1 start 1500'] });
    expect(findings(neverEnded)['ledger mismatches']).toBe(1);
    const otherCode = evidence({ jobs: [row('1', 'soak-0'), row('2', 'soak-1', { state: 'FAILED', exitStatus: 3 })] });
    expect(findings(otherCode)['ledger mismatches']).toBe(1);
    const otherNode = evidence({ jobs: [row('1', 'soak-0'), row('2', 'soak-1', { node: 'n2' })] });
    expect(findings(otherNode)['ledger mismatches']).toBe(1);
    const unmadeAttempt = evidence({
      ledger: [
        '1 1 n1 start 1000',
        '1 1 n1 end 1000 2000 0',
        '2 1 n1 start 1500',
        '2 1 n1 end 1500 2500 0',
        '2 2 n1 start 3000',
      ],
    });
    expect(findings(unmadeAttempt)['ledger mismatches']).toBe(1);
    const requeuedUnasked = evidence({
      jobs: [row('1', 'soak-0'), row('2', 'soak-1', { attempt: 2 })],
      ledger: ['1 1 n1 start 1000', '1 1 n1 end 1000 2000 0', '2 2 n1 start 1500', '2 2 n1 end 1500 2500 0'],
      outputs: [
        ['1', expectedOutput(first, 1)],
        ['2', expectedOutput(second, 2)],
      ],
    });
    expect(findings(requeuedUnasked)['ledger mismatches']).toBe(1);
    const cancelled = evidence({ jobs: [row('1', 'soak-0'), row('2', 'soak-1', { state: 'CANCELLED' })] });
    expect(findings(cancelled)['ledger mismatches']).toBe(1);
  });

  it('accept a lost node: NODE_FAIL whether or not its run wrote its end', () => {
    const settled = evidence({
      jobs: [row('1', 'soak-0', { state: 'NODE_FAIL', exitStatus: null }), row('2', 'soak-1', { state: 'NODE_FAIL' })],
      ledger: ['1 1 n1 start 1000', '2 1 n1 start 1500', '2 1 n1 end 1500 2500 0'],
    });
    expect(checkSoak(settled).details).toEqual([]);
  });

  it('find an attempt that ran twice: two starts, or on two nodes', () => {
    const twice = evidence({
      ledger: [
        '1 1 n1 start 1000',
        '1 1 n1 end 1000 2000 0',
        '1 1 n1 start 3000',
        '2 1 n1 start 1500',
        '2 1 n1 end 1500 2500 0',
      ],
    });
    expect(findings(twice)['double runs']).toBe(1);
    const twoNodes = evidence({
      ledger: [
        '1 1 n1 start 1000',
        '1 1 n1 end 1000 2000 0',
        '1 1 n2 tick 1200',
        '2 1 n1 start 1500',
        '2 1 n1 end 1500 2500 0',
      ],
    });
    expect(findings(twoNodes)['double runs']).toBe(1);
  });

  it('find two attempts of a job that overlapped, a killed one by its last tick', () => {
    const jobs = [row('1', 'soak-0', { attempt: 2, node: 'n2' }), row('2', 'soak-1')];
    const outputs: [string, string][] = [
      ['1', expectedOutput(first, 2)],
      ['2', expectedOutput(second, 1)],
    ];
    const rest = ['2 1 n1 start 1500', '2 1 n1 end 1500 2500 0', '1 2 n2 end 5000 6000 0'];
    const apart = evidence({
      jobs,
      outputs,
      ledger: ['1 1 n1 start 1000', '1 1 n1 tick 4000', '1 2 n2 start 5000', ...rest],
    });
    expect(checkSoak(apart).details).toEqual([]);
    const overlapping = evidence({
      jobs,
      outputs,
      ledger: ['1 1 n1 start 1000', '1 1 n1 tick 5500', '1 2 n2 start 5000', ...rest],
    });
    expect(findings(overlapping).overlaps).toBe(1);
  });

  it('find a COMPLETED job whose stored output is not what it wrote, or could not be read', () => {
    const cut = evidence({
      outputs: [
        ['1', expectedOutput(first, 1)],
        ['2', expectedOutput(second, 1).slice(0, -1)],
      ],
    });
    expect(findings(cut)['output mismatches']).toBe(1);
    const earlierAttempt = evidence({
      outputs: [
        ['1', expectedOutput(first, 2)],
        ['2', expectedOutput(second, 1)],
      ],
    });
    expect(findings(earlierAttempt)['output mismatches']).toBe(1);
    const unread = evidence({ outputs: [['1', expectedOutput(first, 1)]] });
    expect(findings(unread)['output mismatches']).toBe(1);
  });

  it('count ledger lines not in its format', () => {
    const garbled = evidence({
      ledger: [
        '1 1 n1 start 1000',
        '1 1 n1 end 1000 2000 0',
        '2 1 n1 start 1500',
        '2 1 n1 end 1500 2500 0',
        '2 1 n1 sta',
      ],
    });
    expect(findings(garbled)['ledger mismatches']).toBe(1);
  });
});
