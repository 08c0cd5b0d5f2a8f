/**
 * sbatch's --dependency list as shared/job/dependency.ts reads it, and as a script's directives give it
 * (`-d`, `--dependency`, `--kill-on-invalid-dep`).
 */
import { describe, expect, it } from 'vitest';
import { jobFieldsOf } from '../cli/sbatch-flags.js';
import { readSubmitArgv } from '../cli/submit-argv.js';
import { DirectivesRefused } from '../shared/job/directive-error.js';
import { readDirectives } from '../shared/job/directive-options.js';
import { DependencyError, formatDependency, parseDependency } from '../shared/job/dependency.js';
import { SubmitRequest } from '../shared/job/submit-request.js';

describe('parseDependency', () => {
  it('reads types with one or more ids, joined by "," (all) or "?" (any)', () => {
    expect(parseDependency('afterok:12:13,afterany:14')).toEqual({
      combine: 'all',
      items: [
        { kind: 'afterok', parentId: 12 },
        { kind: 'afterok', parentId: 13 },
        { kind: 'afterany', parentId: 14 },
      ],
    });
    expect(parseDependency('afternotok:3?after:4?singleton')).toEqual({
      combine: 'any',
      items: [
        { kind: 'afternotok', parentId: 3 },
        { kind: 'after', parentId: 4 },
        { kind: 'singleton', parentId: null },
      ],
    });
    expect(parseDependency('AFTERCORR:7').items).toEqual([{ kind: 'aftercorr', parentId: 7 }]);
    // One array task as squeue shows it (Slurm 22.05 takes `afterok:47_2`).
    const task = parseDependency('afterok:12_3:12');
    expect(task.items).toEqual([
      { kind: 'afterok', parentId: 12, task: 3 },
      { kind: 'afterok', parentId: 12 },
    ]);
    expect(formatDependency(task.items, task.combine)).toBe('afterok:12_3,afterok:12');
  });

  it('keeps a repeated condition once, and writes the list back as sbatch does', () => {
    const dependency = parseDependency('afterok:5,afterok:5:6');
    expect(dependency.items).toHaveLength(2);
    expect(formatDependency(dependency.items, dependency.combine)).toBe('afterok:5,afterok:6');
  });

  it.each([
    ['', /empty/],
    ['afterok', /at least one job id/],
    ['afterok:', /at least one job id/],
    ['afterok:x', /not a job id/],
    ['afterok:0', /not a job id/],
    ['afterok:1,afterok:2?afterok:3', /not both/],
    ['afterok:1,,afterok:2', /empty condition/],
    ['singleton:4', /no job ids/],
    ['after:12+5', /delay after the parent's start .* not supported/],
    ['afterok:7+30', /applies only to after/],
    // What sbatch 22.05 refused ("Job dependency problem"), checked against it.
    [' afterok:7', /blanks/],
    ['afterok:7 ', /blanks/],
    ['afterok:7, afterany:8', /blanks/],
    ['afterok:7 ,afterany:8', /blanks/],
    ['afterok:7,', /empty condition/],
    [',afterok:7', /empty condition/],
    ['afterok:7::8', /not a job id/],
    ['singleton:', /no job ids/],
    ['afterok?', /at least one job id/],
    // What sbatch accepts but misreads: refused.
    ['afterok:-1', /not a job id/],
    ['afterok:+5', /not a job id/],
    ['afterok:7?afterany:8,afterok:9', /not both/],
    ['afterok:12_x', /not a job id/],
    ['afterok:_3', /not a job id/],
    ['afterburstbuffer:1', /burst buffers/],
    ['expand:1', /not a dependency type/],
  ])('refuses %j', (text, message) => {
    expect(() => parseDependency(text)).toThrow(DependencyError);
    expect(() => parseDependency(text)).toThrow(message);
  });
});

describe('dependency directives', () => {
  const read = (script: string, job: Record<string, unknown> = {}) =>
    readDirectives(SubmitRequest.parse({ job, script }));

  it('reads -d, --dependency and --kill-on-invalid-dep onto the body; the body wins', () => {
    const job = read('#!/bin/bash\n#SBATCH -d afterok:5\n#SBATCH --kill-on-invalid-dep=no\ntrue').request.job;
    expect(job).toMatchObject({ dependency: 'afterok:5', kill_on_invalid_dep: false });
    expect(
      read('#!/bin/bash\n#SBATCH --dependency=singleton\ntrue', { dependency: 'afterany:3' }).request.job.dependency,
    ).toBe('afterany:3');
  });

  it('refuses a bad list or a --kill-on-invalid-dep that is not yes or no, naming the line', () => {
    for (const line of ['--dependency=before:1', '--kill-on-invalid-dep=maybe']) {
      try {
        read(`#!/bin/bash\n#SBATCH ${line}\ntrue`);
        throw new Error('taken');
      } catch (error) {
        expect(error).toBeInstanceOf(DirectivesRefused);
        expect((error as DirectivesRefused).problems[0]).toMatchObject({ line: 2, option: line });
      }
    }
  });

  it('takes -d and --kill-on-invalid-dep as conductor submit flags, read as the directives are', () => {
    const fields = (argv: string[]) => jobFieldsOf(readSubmitArgv(argv).options);
    expect(fields(['-d', 'afterok:5?afterany:6', '--kill-on-invalid-dep=no', 'job.sh'])).toEqual({
      dependency: 'afterok:5?afterany:6',
      kill_on_invalid_dep: false,
    });
    expect(() => fields(['--dependency=afterok:x', 'job.sh'])).toThrow(/--dependency=afterok:x: .*not a job id/);
  });
});
