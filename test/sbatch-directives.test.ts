/**
 * The directive reader with sbatch's own spellings (issue 14, items 3 and 8): how sbatch splits #SBATCH lines
 * (src/sbatch/opt.c), reads them with getopt_long over its option table (src/common/slurm_opt.c), and what each
 * option does to the job here.
 */
import { describe, expect, it } from 'vitest';
import { DirectivesRefused, type DirectiveProblem } from '../shared/job/directive-error.js';
import { directiveOptions } from '../shared/job/directive-getopt.js';
import { readDirectives } from '../shared/job/directive-options.js';
import { directiveWords } from '../shared/job/directive-words.js';
import { SBATCH_OPTIONS } from '../shared/job/sbatch-options.js';
import { SubmitRequest } from '../shared/job/submit-request.js';

const words = (script: string) => directiveWords(script).words.map(({ line, word }) => [line, word]);
const read = (script: string, job: Record<string, unknown> = {}) =>
  readDirectives(SubmitRequest.parse({ job, script }));
const readJob = (script: string, job: Record<string, unknown> = {}) => read(script, job).request.job;

function refusal(script: string, job: Record<string, unknown> = {}): DirectiveProblem[] {
  try {
    read(script, job);
  } catch (error) {
    if (error instanceof DirectivesRefused) return error.problems;
    throw error;
  }
  throw new Error('the directives were taken');
}

describe('directive lines, split as sbatch splits them', () => {
  it('reads #SBATCH lines after the #! line, and stops at the first command', () => {
    const script = [
      '#!/bin/bash -e',
      '',
      '# a comment',
      '#SBATCH --job-name=relax',
      '   # an indented comment',
      '#SBATCH -c 2',
      'echo start',
      '#SBATCH --time=5',
    ].join('\n');
    expect(words(script)).toEqual([
      [4, '--job-name=relax'],
      [6, '-c'],
      [6, '2'],
    ]);
  });

  it('reads #CONDUCTOR lines with the same syntax, and #SLURM as sbatch still does, with a warning', () => {
    const { words: found, warnings } = directiveWords('#CONDUCTOR -J a\n#SLURM -c 3\n#SBATCH -t 5');
    expect(found.map(({ word }) => word)).toEqual(['-J', 'a', '-c', '3', '-t', '5']);
    expect(warnings).toEqual([expect.stringMatching(/^line 2: #SLURM: .*#SBATCH/)]);
  });

  it('is case-sensitive and wants the magic word at the first column', () => {
    expect(words('#sbatch -c 2\n  #SBATCH -c 3\n#Sbatch -c 4')).toEqual([]);
  });

  it('splits on blanks, groups quotes, takes a backslashed character as it is', () => {
    expect(words(`#SBATCH -J "two words" --comment='a "b"'\t--output=a\\ b\\"c "x"y`)).toEqual([
      [1, '-J'],
      [1, 'two words'],
      [1, '--comment=a "b"'],
      [1, '--output=a b"c'],
      [1, 'xy'],
    ]);
  });

  it('ends the line at an unquoted #, even within a word', () => {
    expect(words('#SBATCH -t 5 # five minutes\n#SBATCH -J a#b -c 2\n#SBATCH -J "a#b" --comment=\\#1')).toEqual([
      [1, '-t'],
      [1, '5'],
      [2, '-J'],
      [2, 'a'],
      [3, '-J'],
      [3, 'a#b'],
      [3, '--comment=#1'],
    ]);
  });

  it('stops reading a line at an empty word, as sbatch does', () => {
    expect(words('#SBATCH -c 2 "" -t 5')).toEqual([
      [1, '-c'],
      [1, '2'],
    ]);
  });

  it('refuses an unmatched quote, naming its line', () => {
    expect(() => directiveWords('#!/bin/sh\n#SBATCH -J "open')).toThrow(DirectivesRefused);
    try {
      directiveWords('#!/bin/sh\n#SBATCH -J "open');
    } catch (error) {
      expect((error as DirectivesRefused).problems).toEqual([
        { line: 2, option: '#SBATCH -J "open', message: 'unmatched "' },
      ]);
    }
  });

  it('refuses a heterogeneous job', () => {
    expect(() => directiveWords('#SBATCH -c 1\n#SBATCH hetjob\n#SBATCH -c 2')).toThrow(/heterogeneous/);
    expect(() => directiveWords('#SBATCH : -c 2')).toThrow(/heterogeneous/);
  });
});

describe('options, read as getopt_long reads them', () => {
  const options = (script: string) =>
    directiveOptions(directiveWords(script).words).map(({ option, value, raw }) => [option.long, value, raw]);

  it.each([
    ['--cpus-per-task=2', ['cpus-per-task', '2', '--cpus-per-task=2']],
    ['--cpus-per-task 2', ['cpus-per-task', '2', '--cpus-per-task 2']],
    ['-c2', ['cpus-per-task', '2', '-c2']],
    ['-c 2', ['cpus-per-task', '2', '-c 2']],
    ['--cpus-per-t=2', ['cpus-per-task', '2', '--cpus-per-t=2']],
    ['--job-name=', ['job-name', '', '--job-name=']],
    ['-Jrelax', ['job-name', 'relax', '-Jrelax']],
    ['--mem 4G', ['mem', '4G', '--mem 4G']],
    ['--exclusive', ['exclusive', null, '--exclusive']],
    ['--exclusive=user', ['exclusive', 'user', '--exclusive=user']],
    ['--time -5', ['time', '-5', '--time -5']],
  ])('%s', (written, expected) => {
    expect(options(`#SBATCH ${written}`)).toEqual([expected]);
  });

  it('reads letters run together, up to the one that takes a value', () => {
    expect(options('#SBATCH -vQc3')).toEqual([
      ['verbose', null, '-v'],
      ['quiet', null, '-Q'],
      ['cpus-per-task', '3', '-c3'],
    ]);
  });

  it('takes the value of an option from the next word, even on the next directive line', () => {
    expect(directiveOptions(directiveWords('#SBATCH --time\n#SBATCH 10').words)).toMatchObject([
      { line: 1, value: '10', raw: '--time 10' },
    ]);
  });

  it('ends the options at --', () => {
    expect(options('#SBATCH -c 2 --')).toEqual([['cpus-per-task', '2', '-c 2']]);
  });

  it.each([
    ['--bogus=1', '--bogus', /not an sbatch option/],
    ['-y', '-y', /not an sbatch option/],
    ['--cpus=2', '--cpus', /ambiguous.*--cpus-per-task.*--cpus-per-gpu/],
    ['--hold=yes', '--hold=yes', /takes no value/],
    ['--time', '--time', /needs a value/],
    ['-t', '-t', /needs a value/],
    ['relax', 'relax', /Invalid directive/],
    ['-c 2 -- -t 5', '-t', /Invalid directive/],
    // --nice takes its value attached only: sbatch reads "--nice 5" as --nice and a stray "5".
    ['--nice 5', '5', /Invalid directive/],
    ['--mail-user=<your e-mail>', 'e-mail>', /Invalid directive/],
  ])('refuses %s', (written, option, message) => {
    try {
      directiveOptions(directiveWords(`#!/bin/bash\n#SBATCH ${written}`).words);
      expect.unreachable();
    } catch (error) {
      expect((error as DirectivesRefused).problems).toEqual([
        { line: 2, option, message: expect.stringMatching(message) },
      ]);
    }
  });

  it("knows each of sbatch's options once, by long name and letter", () => {
    const longs = SBATCH_OPTIONS.map((option) => option.long);
    const letters = SBATCH_OPTIONS.flatMap((option) => (option.short ? [option.short] : []));
    expect(new Set(longs).size).toBe(longs.length);
    expect(new Set(letters).size).toBe(letters.length);
    expect(letters.sort().join('')).toBe('ABCDFGHJLMNOQSVWabcdehikmnopqstvwx');
  });
});

describe('directives onto the job', () => {
  it("applies the issue's example, with what it applied in script order", () => {
    const { request, directives, warnings } = read(
      '#!/bin/bash\n#SBATCH --job-name=relax --cpus-per-task=2 --time=0:00:07 --mem=200M --output=/tmp/out-%j.log\nsleep 1',
    );
    expect(request.job).toEqual({
      name: 'relax',
      cpus_per_task: 2,
      time_limit: '0:00:07',
      memory_per_node: '200M',
      standard_output: '/tmp/out-%j.log',
    });
    expect(directives).toEqual([
      { line: 2, option: '--job-name=relax' },
      { line: 2, option: '--cpus-per-task=2' },
      { line: 2, option: '--time=0:00:07' },
      { line: 2, option: '--mem=200M' },
      { line: 2, option: '--output=/tmp/out-%j.log' },
    ]);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['-J relax', { name: 'relax' }],
    ['-A physics', { account: 'physics' }],
    ['--account physics', { account: 'physics' }],
    ['-p batch', { partition: 'batch' }],
    ['-c 4', { cpus_per_task: 4 }],
    ['-n 3', { ntasks_per_node: 3 }],
    ['--ntasks=3', { ntasks_per_node: 3 }],
    ['--ntasks-per-node=3', { ntasks_per_node: 3 }],
    ['--tasks-per-node=3', { ntasks_per_node: 3 }],
    ['-n 2 --ntasks-per-node=4', { ntasks_per_node: 2 }],
    ['--mem=16G', { memory_per_node: '16G' }],
    ['--mem 2048', { memory_per_node: '2048' }],
    ['--mem-per-cpu=1G -c 2 -n 3', { memory_per_node: '6144M', cpus_per_task: 2, ntasks_per_node: 3 }],
    ['-t 1-02:03:04', { time_limit: '1-02:03:04' }],
    ['--time=90', { time_limit: '90' }],
    ['-t UNLIMITED', { time_limit: 'UNLIMITED' }],
    ['-o out-%j.log -e err-%j.log', { standard_output: 'out-%j.log', standard_error: 'err-%j.log' }],
    ['-D /data/run', { current_working_directory: '/data/run' }],
    ['--chdir=/data/run', { current_working_directory: '/data/run' }],
    ['--exclusive', { exclusive: true }],
    ['--exclusive=exclusive', { exclusive: true }],
    ['--open-mode=append', { open_mode: 'append' }],
    ['--open-mode=t', { open_mode: 'truncate' }],
    ['--requeue', { requeue: true }],
    ['--no-requeue', { requeue: false }],
    ['--requeue --no-requeue', { requeue: false }],
    ['--signal=B:USR1@90', { signal: 'B:USR1@90' }],
    ['--priority=10', { priority: 10 }],
    ['-N 1 -c 2', { cpus_per_task: 2 }],
    ['--nodes=1-1', {}],
    ['--export=ALL', {}],
    ['-c 2 -c 3', { cpus_per_task: 3 }],
  ])('#SBATCH %s', (written, job) => {
    expect(readJob(`#!/bin/bash\n#SBATCH ${written}\ntrue`)).toEqual(job);
  });

  it('lets the body win, and says which directives it overrode', () => {
    const { request, directives, warnings } = read('#SBATCH -t 10 -c 2 --mem-per-cpu=1G\n#SBATCH -J from-script', {
      time_limit: '5',
      cpus_per_task: 4,
    });
    expect(request.job).toEqual({ time_limit: '5', cpus_per_task: 4, memory_per_node: '4096M', name: 'from-script' });
    expect(directives).toEqual([
      { line: 1, option: '--mem-per-cpu=1G' },
      { line: 2, option: '-J from-script' },
    ]);
    expect(warnings).toEqual([
      'line 1: -t 10: overridden by job.time_limit in the body',
      'line 1: -c 2: overridden by job.cpus_per_task in the body',
    ]);
  });

  it('lists what it honoured as every job here is (-N 1, --export=ALL) among the applied', () => {
    expect(read('#SBATCH -N 1 --export=ALL').directives).toEqual([
      { line: 1, option: '-N 1' },
      { line: 1, option: '--export=ALL' },
    ]);
  });

  it('says which directives set each field', () => {
    expect(read('#SBATCH -n 2 --ntasks-per-node=4 -c 3 -J a').setBy).toEqual({
      ntasks_per_node: [
        { line: 1, option: '-n 2' },
        { line: 1, option: '--ntasks-per-node=4' },
      ],
      cpus_per_task: [{ line: 1, option: '-c 3' }],
      name: [{ line: 1, option: '-J a' }],
    });
  });

  it('lists only the last of a repeated option as applied', () => {
    expect(read('#SBATCH -t 5\n#SBATCH --time=7').directives).toEqual([{ line: 2, option: '--time=7' }]);
  });

  it('warns about what changes nothing here, and keeps the job', () => {
    const { request, warnings } = read(
      '#SBATCH --mail-user=me@example.com --mail-type=END,FAIL\n#SBATCH --comment "a run" -q high --wckey=x -J a\n#SBATCH --exclusive=oversubscribe',
    );
    expect(request.job).toEqual({ name: 'a' });
    expect(warnings).toEqual([
      'line 1: --mail-user=me@example.com: ignored: no mail is sent',
      'line 1: --mail-type=END,FAIL: ignored: no mail is sent',
      'line 2: --comment a run: ignored: jobs have no comments here',
      'line 2: -q high: ignored: there are no QOS here',
      'line 2: --wckey=x: ignored: there are no workload characterization keys here',
      'line 3: --exclusive=oversubscribe: ignored: jobs never share cores here',
    ]);
  });

  it.each([
    '-N 2',
    '--nodes=2',
    '--nodes=1-2',
    '--gres=gpu:1',
    '--constraint=x',
    '-C x',
    '--mem-per-gpu=4G',
    '-G 1',
    '--gpus-per-task=1',
    '--reservation=r',
    '-w node1',
    '--exclude=node1',
    '--licenses=matlab',
    '--hint=nomultithread',
    '--distribution=block',
    '--tmp=10G',
    '--export=NONE',
    '--export=ALL,OMP_NUM_THREADS=4',
    '--get-user-env',
    '--uid=alice',
    '--test-only',
    '--wrap=true',
    '--exclusive=user',
    '--requeue=expedite',
    '-p a,b',
  ])('refuses #SBATCH %s, naming it', (written) => {
    const problems = refusal(`#!/bin/bash\n#SBATCH -c 1\n#SBATCH ${written}`);
    expect(problems).toEqual([{ line: 3, option: written, message: expect.any(String) }]);
    expect(problems[0]!.message).toMatch(/not supported|list of partitions/);
  });

  it.each([
    ['--time=abc', /"abc" is not a Slurm time/],
    ['-t 0', /more than 0; use "UNLIMITED"/],
    ['-c two', /"two" is not a whole number/],
    ['-c 0', /./],
    ['-n -2', /not a whole number/],
    ['--mem=lots', /not a memory size/],
    ['--mem=0', /all of a node's memory/],
    ['--mem-per-cpu=x', /not a memory size/],
    ['-J ""', /needs a value/],
    ['--job-name=', /./],
    ['-A "not an account"', /account must be/],
    ['-D run', /relative.*absolute path/],
    ['--open-mode=overwrite', /append or truncate/],
    ['--signal=KILL', /cannot be warned|not a signal/],
    ['--exclusive=yes', /not an --exclusive mode/],
    ['-N two', /not a node count/],
    ['--priority=TOP', /not a whole number/],
  ])("refuses #SBATCH %s with the field's own message", (written, message) => {
    const problems = refusal(`#!/bin/bash\n\n#SBATCH ${written}`);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(3);
    expect(problems[0]!.message).toMatch(message);
  });

  it('refuses a bad value even when a later one or the body replaces it, as sbatch does', () => {
    expect(refusal('#SBATCH -t abc\n#SBATCH -t 5')).toHaveLength(1);
    expect(refusal('#SBATCH -t abc', { time_limit: '5' })).toHaveLength(1);
  });

  it('names every problem at once', () => {
    expect(refusal('#SBATCH --time=abc -N 2\n#SBATCH --gres=gpu:1').map(({ line, option }) => [line, option])).toEqual([
      [1, '--time=abc'],
      [1, '-N 2'],
      [2, '--gres=gpu:1'],
    ]);
  });

  it('refuses --mem with --mem-per-cpu, as sbatch does', () => {
    expect(refusal('#SBATCH --mem=4G\n#SBATCH --mem-per-cpu=1G')).toEqual([
      { line: 2, option: '--mem-per-cpu=1G', message: expect.stringMatching(/mutually exclusive/) },
    ]);
  });

  it('refuses more tasks than --ntasks-per-node lets one node have', () => {
    expect(refusal('#SBATCH -n 8 --ntasks-per-node=4')).toEqual([
      { line: 1, option: '-n 8', message: expect.stringMatching(/more than one node/) },
    ]);
  });

  it('refuses what the directives make together, naming the one that did it', () => {
    expect(refusal('#SBATCH -n 64\n#SBATCH -c 128')).toEqual([
      { line: 2, option: '-c 128', message: expect.stringMatching(/at most 4096/) },
    ]);
    expect(refusal('#SBATCH --mem-per-cpu=1T -c 4096')).toEqual([
      { line: 1, option: '--mem-per-cpu=1T', message: expect.stringMatching(/at most/) },
    ]);
  });

  it('keeps 20 warnings and counts the rest; answers 20 problems at most', () => {
    const warnings = read('#SBATCH --comment=x\n'.repeat(25)).warnings;
    expect(warnings).toHaveLength(21);
    expect(warnings[20]).toBe('5 more directives ignored');
    expect(refusal('#SBATCH --gres=gpu:1\n'.repeat(25))).toHaveLength(20);
  });

  it('reads nothing after the first command, and says so', () => {
    const reading = read(
      '#!/bin/bash\n#SBATCH --comment=x\ncd /tmp\n#SBATCH --gres=gpu:1 -t abc\necho\n#CONDUCTOR -c 2',
    );
    expect(reading.request.job).toEqual({});
    expect(reading.warnings).toEqual([
      'line 2: --comment=x: ignored: jobs have no comments here',
      'line 4: #SBATCH: not read: it comes after the first command (line 3), as sbatch reads',
      'line 6: #CONDUCTOR: not read: it comes after the first command (line 3), as sbatch reads',
    ]);
  });

  it('reads a script without directives as its body', () => {
    expect(read('echo hi', { name: 'x' })).toEqual({
      request: { job: { name: 'x' }, script: 'echo hi' },
      directives: [],
      warnings: [],
      setBy: {},
    });
  });
});

describe('--hold and --begin (issue 20)', () => {
  it('reads -H and --hold as job.hold, -b and --begin as job.begin', () => {
    expect(readJob('#!/bin/bash\n#SBATCH -H\n#SBATCH -b now+1hour')).toMatchObject({ hold: true, begin: 'now+1hour' });
    expect(readJob('#SBATCH --hold --begin=16:00')).toMatchObject({ hold: true, begin: '16:00' });
  });

  it('lets the body win over a directive', () => {
    expect(readJob('#SBATCH --begin=noon', { begin: 'teatime', hold: false })).toMatchObject({
      begin: 'teatime',
      hold: false,
    });
  });

  it('refuses a begin that is no time, naming its line', () => {
    expect(refusal('#SBATCH -c 1\n#SBATCH --begin=soon')).toEqual([
      { line: 2, option: '--begin=soon', message: expect.stringMatching(/not a begin time/) },
    ]);
  });
});
