import { describe, expect, it } from 'vitest';
import { formatExitCode } from '../shared/job/exit-code.js';
import {
  ALLOWED_TRANSITIONS,
  isTerminal,
  isTransitionAllowed,
  JOB_STATES,
  statesLeadingTo,
} from '../shared/job/job-state.js';
import { formatMemorySize, parseMemorySize } from '../shared/job/memory-size.js';
import { expandOutputPath, sameOutputPath } from '../shared/job/output-path.js';
import { SubmitRequest, toJobSpec } from '../shared/job/submit-request.js';
import { formatOriginalTimeLimit, parseOriginalTimeLimit } from '../shared/job/original-time-limit.js';
import { formatDuration, formatTimeLimit, parseTimeLimit, TimeLimitError } from '../shared/job/time-limit.js';
import { formatWarnSignal, parseWarnSignal } from '../shared/job/warn-signal.js';
import { DEFAULT_RETRY_POLICY } from '../shared/job/retry-policy.js';

describe('time limits', () => {
  it.each([
    ['30', 30 * 60],
    [30, 30 * 60],
    ['5:30', 5 * 60 + 30],
    ['2:03:04', 2 * 3600 + 3 * 60 + 4],
    ['1-0', 86400],
    ['1-2', 86400 + 2 * 3600],
    ['1-2:03', 86400 + 2 * 3600 + 3 * 60],
    ['1-02:03:04', 86400 + 2 * 3600 + 3 * 60 + 4],
    ['90', 90 * 60],
    ['UNLIMITED', null],
    ['infinite', null],
  ])('reads %j', (input, seconds) => {
    expect(parseTimeLimit(input)).toBe(seconds);
  });

  it.each([
    '0',
    0,
    '0:00',
    '0-0:0:0',
    '',
    'abc',
    '1:2:3:4',
    '-5',
    '1.5',
    '1-24',
    '1:60',
    '1-2:60',
    '1:00:60',
    '366-0',
    'UNLIMITEDX',
  ])('refuses %j', (input) => {
    expect(() => parseTimeLimit(input)).toThrow();
  });

  it('formats durations as D-HH:MM:SS', () => {
    expect(formatDuration(0)).toBe('0-00:00:00');
    expect(formatDuration(86400 + 3661)).toBe('1-01:01:01');
    expect(formatDuration(59.9)).toBe('0-00:00:59');
    expect(formatTimeLimit(null)).toBe('UNLIMITED');
    expect(formatTimeLimit(3600)).toBe('0-01:00:00');
  });
});

describe('memory sizes', () => {
  it.each([
    ['16G', 16 * 1024],
    ['1024M', 1024],
    ['512K', 1],
    ['1536K', 2],
    ['1T', 1024 * 1024],
    ['2048', 2048],
    [2048, 2048],
    ['1.5G', 1536],
    ['4g', 4096],
    ['4GB', 4096],
  ])('reads %j', (input, megabytes) => {
    expect(parseMemorySize(input)).toBe(megabytes);
  });

  it.each(['0', '0G', '', 'G', '16Q', '-1G', '1e3', 'lots', '3000T'])('refuses %j', (input) => {
    expect(() => parseMemorySize(input)).toThrow();
  });

  it('formats in the largest whole unit', () => {
    expect(formatMemorySize(16384)).toBe('16G');
    expect(formatMemorySize(1500)).toBe('1500M');
    expect(formatMemorySize(1024 * 1024)).toBe('1T');
  });
});

describe('output paths', () => {
  const job = { id: '42', name: 'relax', user: 'alice', node: 'n1' };

  it.each([
    ['/o/%x-%j.out', '/o/relax-42.out'],
    ['100%%-%j', '100%-42'],
    ['%u/%N/%j', 'alice/n1/42'],
    // Zero-padding, as sbatch: for the id only, at most 10 digits; a width on a name is read and ignored.
    ['%5j.out', '00042.out'],
    ['%1j', '42'],
    ['%012j', '0000000042'],
    ['%3x-%5N', 'relax-n1'],
    // %% is read before anything else: "%%j" is a literal "%j".
    ['%%j-%%%j', '%j-%42'],
    // A job in no array: %A is its id, as slurmstepd's; %a is left as written (test/job-arrays.test.ts has tasks').
    ['%A_%a-%j', '42_%a-42'],
    ['%q%5Z%', '%q%5Z%'],
  ])('expands %s', (pattern, expanded) => {
    expect(expandOutputPath(pattern, job)).toBe(expanded);
  });

  it('leaves %u and %N as they are while the user or the node is not known', () => {
    expect(expandOutputPath('%N-%u-%j', { ...job, user: null, node: null })).toBe('%N-%u-42');
  });

  it('tells when stdout and stderr name one file, from the working directory', () => {
    expect(sameOutputPath('slurm-1.out', 'slurm-1.out', null)).toBe(true);
    expect(sameOutputPath('./out//a.log', 'out/a.log', null)).toBe(true);
    expect(sameOutputPath('/w/a.log', 'a.log', '/w')).toBe(true);
    expect(sameOutputPath('/w/x/../a.log', 'a.log', '/w/')).toBe(true);
    expect(sameOutputPath('a.out', 'a.err', '/w')).toBe(false);
    expect(sameOutputPath('/w/a.log', 'a.log', null)).toBe(false);
    expect(sameOutputPath('../a.log', 'a.log', null)).toBe(false);
  });
});

describe('exit codes', () => {
  it('keeps status and signal apart', () => {
    expect(formatExitCode(null, null)).toBeNull();
    expect(formatExitCode(3, null)).toBe('3:0');
    expect(formatExitCode(null, 9)).toBe('0:9');
  });
});

describe('the transition table', () => {
  it('lets a job start, end, be cancelled and be requeued, and nothing else', () => {
    const allowed = JOB_STATES.flatMap((from) =>
      JOB_STATES.filter((to) => isTransitionAllowed(from, to)).map((to) => `${from}->${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'PENDING->RUNNING',
        'PENDING->CANCELLED',
        'RUNNING->COMPLETED',
        'RUNNING->FAILED',
        'RUNNING->CANCELLED',
        'RUNNING->TIMEOUT',
        'RUNNING->OUT_OF_MEMORY',
        'RUNNING->NODE_FAIL',
        'RUNNING->PENDING',
      ].sort(),
    );
  });

  it('has terminal states with no way out', () => {
    expect(JOB_STATES.filter(isTerminal)).toEqual([
      'COMPLETED',
      'FAILED',
      'CANCELLED',
      'TIMEOUT',
      'OUT_OF_MEMORY',
      'NODE_FAIL',
    ]);
    expect(statesLeadingTo('CANCELLED')).toEqual(['PENDING', 'RUNNING']);
    expect(Object.keys(ALLOWED_TRANSITIONS)).toEqual([...JOB_STATES]);
  });
});

describe('time limits as the original API read them', () => {
  it.each([
    ['30', 30 * 60],
    ['007', 7 * 60],
    ['1:30', 90 * 60],
    ['1:30:15', 90 * 60 + 15],
    ['1-2', 86400 + 2 * 3600],
    ['1-2:30', 86400 + 2 * 3600 + 30 * 60],
    ['1-2:30:15', 86400 + 2 * 3600 + 30 * 60 + 15],
    ['0:90', 90 * 60],
    ['0:0:45', 45],
    ['1-0:-0', 86400],
    [' 1 - 2 ', 86400 + 2 * 3600],
    ['0', null],
    ['00:00:00', null],
    // Python's int() and str.strip(): any script's digits, its whitespace.
    ['３０', 30 * 60],
    ['٣٠', 30 * 60],
    ['1:٣٠', 90 * 60],
    ['𝟏𝟓', 15 * 60],
    ['\u3000１:３０\u3000', 90 * 60],
    ['\x1c30\x85', 30 * 60],
    // The seconds the original never read: one it could not have read is ignored.
    ['1:30:', 90 * 60],
    ['1:30:abc', 90 * 60],
    ['366-0', 366 * 86400],
    ['24855-0', 24855 * 86400],
  ])('reads %j', (input, seconds) => {
    expect(parseOriginalTimeLimit(input)).toBe(seconds);
  });

  it.each([
    '',
    'abc',
    '1:2:3:4',
    '1.5',
    '1:-5',
    '-5',
    '1--5',
    '1-2:-30',
    '1:30:-5',
    '1-',
    'UNLIMITED',
    '24856-0',
    '1e3',
    '²',
    '\ufeff30',
  ])('refuses %j', (input) => {
    expect(() => parseOriginalTimeLimit(input)).toThrow(TimeLimitError);
  });

  it.each([
    [null, 'UNLIMITED'],
    [59, '0:00:59'],
    [5400, '1:30:00'],
    [86399, '23:59:59'],
    [86400, '1-00:00:00'],
    [10 * 86400 + 3723, '10-01:02:03'],
  ])('writes %j as the original wrote limit_time: %s', (limit, text) => {
    expect(formatOriginalTimeLimit(limit)).toBe(text);
  });
});

describe('the submit body', () => {
  it('fills every default and parses sizes', () => {
    const body = SubmitRequest.parse({ job: {}, script: 'true' });
    expect(toJobSpec(body, 'acct', 'alice')).toEqual({
      array: null,
      account: 'acct',
      user: 'alice',
      name: 'job',
      partition: 'default',
      workDir: null,
      stdoutPattern: 'slurm-%j.out',
      stderrPattern: 'slurm-%j.out',
      environment: {},
      ntasksPerNode: 1,
      cpusPerTask: 1,
      cpus: 1,
      memoryMb: 1024,
      timeLimitSeconds: 3600,
      exclusive: false,
      nice: 0,
      priority: 0,
      requeue: true,
      retryPolicy: DEFAULT_RETRY_POLICY,
      openMode: 'truncate',
      warnSignal: null,
      hold: false,
      beginAt: null,
      dependency: null,
      killOnInvalidDep: true,
      script: 'true',
      warnings: [],
      directives: [],
    });
  });

  it('takes the environment as an object or as NAME=value entries', () => {
    const list = SubmitRequest.parse({ job: { environment: ['A=1', 'B=x=y', 'C='] }, script: 'true' });
    expect(toJobSpec(list, 'a', null).environment).toEqual({ A: '1', B: 'x=y', C: '' });
  });

  it('multiplies tasks by cpus per task', () => {
    const body = SubmitRequest.parse({ job: { ntasks_per_node: 3, cpus_per_task: 4 }, script: 'true' });
    expect(toJobSpec(body, 'a', null).cpus).toBe(12);
  });
});

describe('output file defaults (sbatch --output, --error)', () => {
  it.each([
    [{}, 'slurm-%j.out', 'slurm-%j.out'],
    [{ standard_output: 'run-%j.log' }, 'run-%j.log', 'run-%j.log'],
    [{ standard_error: 'e.log' }, 'slurm-%j.out', 'e.log'],
    [{ standard_output: 'o.log', standard_error: 'e.log' }, 'o.log', 'e.log'],
  ])('%j: stderr goes where stdout goes unless named', (job, stdout, stderr) => {
    const spec = toJobSpec(SubmitRequest.parse({ job, script: 'true' }), 'a', null);
    expect([spec.stdoutPattern, spec.stderrPattern]).toEqual([stdout, stderr]);
  });
});

describe('the warning signal (sbatch --signal)', () => {
  it.each([
    ['USR1@60', { signal: 'USR1', seconds: 60, batchOnly: false }],
    ['SIGUSR2', { signal: 'USR2', seconds: 60, batchOnly: false }],
    ['B:TERM@120', { signal: 'TERM', seconds: 120, batchOnly: true }],
    ['b:10@5', { signal: 'USR1', seconds: 5, batchOnly: true }],
    ['usr1@0', { signal: 'USR1', seconds: 0, batchOnly: false }],
  ])('reads %s', (text, expected) => {
    expect(parseWarnSignal(text)).toEqual(expected);
    expect(parseWarnSignal(formatWarnSignal(expected))).toEqual(expected);
  });

  it.each([
    ['R:USR1@60', /reservation/],
    ['X:USR1', /not a flag/],
    ['KILL@10', /not a signal/],
    ['9@10', /cannot be sent/],
    ['USR1@70000', /at most 65535/],
    ['USR1@-1', /is not/],
    ['', /is not/],
  ])('refuses %j', (text, message) => {
    expect(() => parseWarnSignal(text)).toThrow(message);
  });

  it('refuses a bad signal in the body, naming the field', () => {
    const result = SubmitRequest.safeParse({ job: { signal: 'R:USR1' }, script: 'true' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(['job', 'signal']);
  });
});
