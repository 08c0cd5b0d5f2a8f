/**
 * The SDK (issue 17, item 1): generated from the committed contract and never stale, the contract itself valid
 * OpenAPI 3.1, submits made once however often they are sent, log follows that resume after a real disconnect with
 * no byte lost or repeated, and the package exporting it to another project.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { ConductorApiError, createConductorClient, followLogs, submitJob } from '../sdk/index.js';
import { SDK_TYPES_FILE, sdkTypesSource } from '../sdk/sdk-types-write.js';
import { ADMIN_TOKEN } from './helpers/test-app.js';
import { apiWithNode, waitForState } from './helpers/test-node.js';
import { waitFor } from './helpers/wait-for.js';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;

/** A fetch that goes to the network, and records each request's method, path and Idempotency-Key, and its failures. */
function recordingFetch(options: { loseFirstAnswer?: boolean } = {}) {
  const sent: { method: string; path: string; key: string | null }[] = [];
  const failures: unknown[] = [];
  let lose = options.loseFirstAnswer ?? false;
  const fetcher = async (request: Request): Promise<Response> => {
    sent.push({
      method: request.method,
      path: new URL(request.url).pathname,
      key: request.headers.get('Idempotency-Key'),
    });
    try {
      const response = await fetch(request);
      if (lose) {
        // The API made the job and answered; the answer is lost on its way back, as a dropped connection loses it.
        lose = false;
        await response.arrayBuffer();
        throw new TypeError('fetch failed: the answer was lost');
      }
      return response;
    } catch (error) {
      failures.push(error);
      throw error;
    }
  };
  return { fetch: fetcher, sent, failures };
}

describe('the generated SDK', () => {
  it('is exactly what `npm run gen:sdk` makes of the committed api/openapi.json', async () => {
    expect(readFileSync(SDK_TYPES_FILE, 'utf8')).toBe(await sdkTypesSource());
  });

  it('is generated from a document that passes a strict OpenAPI 3.1 validator', async () => {
    const validator = new Validator();
    const document = JSON.parse(readFileSync(join(ROOT, 'api/openapi.json'), 'utf8'));
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // Every $ref points at something.
    expect(() => validator.resolveRefs()).not.toThrow();
  });
});

describe('the SDK against a running API and node daemon', () => {
  const started = apiWithNode('sdk-node');

  it('sends an Idempotency-Key with every submit, one key for all its retries: one job however often it is sent', async () => {
    const recorder = recordingFetch({ loseFirstAnswer: true });
    const api = createConductorClient({ url: started.api.url, token: ADMIN_TOKEN, fetch: recorder.fetch });
    const name = `sdk-once-${Date.now()}`;
    const job = await submitJob(
      api,
      { job: { name }, script: '#!/bin/bash\ntrue' },
      { backoff: { minMs: 10, maxMs: 10 } },
    );
    expect(recorder.failures).toHaveLength(1);
    expect(recorder.sent.map((request) => request.method)).toEqual(['POST', 'POST']);
    expect(recorder.sent[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(recorder.sent[1]!.key).toBe(recorder.sent[0]!.key);
    const { data } = await api.GET('/v1/jobs', { params: { query: { name } } });
    expect(data!.jobs.map((listed) => listed.id)).toEqual([job.id]);

    // The raw typed call gets a key of its own too.
    await api.POST('/v1/jobs', { body: { job: {}, script: '#!/bin/bash\ntrue' } });
    expect(recorder.sent.at(-1)!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(recorder.sent.at(-1)!.key).not.toBe(recorder.sent[0]!.key);
  });

  it('throws a refusal as ConductorApiError naming the field, without retrying it', async () => {
    const recorder = recordingFetch();
    const api = createConductorClient({ url: started.api.url, token: ADMIN_TOKEN, fetch: recorder.fetch });
    const refused = await submitJob(api, {
      job: { time_limit: 'soon' },
      script: '#!/bin/bash\ntrue',
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConductorApiError);
    expect(refused).toMatchObject({ status: 422, code: 'validation_failed', retryable: false });
    expect((refused as ConductorApiError).errors.map((error) => error.field)).toContain('job.time_limit');
    expect(recorder.sent).toHaveLength(1);

    const stranger = createConductorClient({ url: started.api.url, token: 'not-a-token' });
    await expect(submitJob(stranger, { job: {}, script: '#!/bin/bash\ntrue' })).rejects.toMatchObject({
      status: 401,
    });
  });

  it('follows a running job to its end across a real disconnect, each byte once', async () => {
    const recorder = recordingFetch();
    const api = createConductorClient({ url: started.api.url, token: ADMIN_TOKEN, fetch: recorder.fetch });
    // Prints until the test has seen the disconnect, then a little more: output on both sides of the cut.
    const marker = join(started.work, `resumed-${Date.now()}`);
    const job = await submitJob(api, {
      job: { current_working_directory: started.work, standard_output: 'follow-%j.out' },
      script: `#!/bin/bash
i=0
while [ ! -e ${marker} ] && [ $i -lt 6000 ]; do i=$((i+1)); echo "line $i"; sleep 0.02; done
for j in $(seq 1 20); do i=$((i+1)); echo "line $i"; sleep 0.02; done
echo done`,
    });
    const chunks: Uint8Array[] = [];
    let received = 0;
    const following = (async () => {
      for await (const bytes of followLogs(api, job.id, { backoff: { minMs: 20, maxMs: 200 }, retries: 1000 })) {
        chunks.push(bytes);
        received += bytes.byteLength;
      }
    })();
    await waitFor('some output followed', () => (received > 100 ? true : undefined));
    // A real cut: the API closes every connection and refuses new ones until it is back.
    await started.api.pause();
    await waitFor('a reconnect refused', () => (recorder.failures.length > 0 ? true : undefined));
    await started.api.resume();
    writeFileSync(marker, '');
    await following;
    const text = Buffer.concat(chunks).toString();
    const lines = text.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('done');
    const numbered = lines.slice(0, -1);
    expect(numbered).toEqual(numbered.map((_, index) => `line ${index + 1}`));
    // More than one follow request: it did reconnect.
    expect(recorder.sent.filter((request) => request.path.endsWith('/logs/stdout')).length).toBeGreaterThan(1);
    await waitForState(started.api.t, job.id, ['COMPLETED']);
  });
});

describe('the package', () => {
  it('exports the SDK as scns-conductor/sdk to another project, from its packed tarball', async () => {
    const consumer = mkdtempSync(join(tmpdir(), 'conductor-sdk-consumer-'));
    try {
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', consumer], {
        cwd: ROOT,
        timeout: 180_000,
      });
      const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
        filename: string;
        files: { path: string }[];
      }[];
      const files = packed!.files.map((file) => file.path);
      expect(files).toEqual(expect.arrayContaining(['dist/sdk/index.js', 'dist/sdk-types/sdk/index.d.ts']));
      expect(files.some((file) => file.startsWith('test/'))).toBe(false);
      const modules = join(consumer, 'node_modules');
      mkdirSync(join(modules, 'scns-conductor'), { recursive: true });
      await run('tar', [
        '-xzf',
        join(consumer, packed!.filename),
        '-C',
        join(modules, 'scns-conductor'),
        '--strip-components=1',
      ]);
      // Its dependencies as npm would install them: the checkout's own copies.
      for (const dependency of ['openapi-fetch', 'retry', 'typescript', '@types/node']) {
        mkdirSync(join(modules, dependency, '..'), { recursive: true });
        symlinkSync(join(ROOT, 'node_modules', dependency), join(modules, dependency));
      }
      writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module', private: true }));
      writeFileSync(
        join(consumer, 'use.ts'),
        `import { createConductorClient, type components } from 'scns-conductor/sdk';
const api = createConductorClient({ url: process.argv[2]!, token: 'x' });
const state: components['schemas']['JobState'] = 'PENDING';
const { response } = await api.GET('/livez');
console.log(state, response.status);
`,
      );
      writeFileSync(
        join(consumer, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: false,
            types: ['node'],
            outDir: 'out',
          },
          files: ['use.ts'],
        }),
      );
      // Typed through the package's exports (a wrong path or a missing type would fail here), then run.
      await run(process.execPath, [join(modules, 'typescript/bin/tsc'), '-p', consumer], { cwd: consumer });
      const { stdout: used } = await run(process.execPath, [join(consumer, 'out/use.js'), 'http://127.0.0.1:9'], {
        cwd: consumer,
      }).catch((error: { stdout: string; stderr: string }) => ({ stdout: `${error.stdout}${error.stderr}` }));
      // Nothing listens on port 9: the client was loaded and made its call.
      expect(used).toMatch(/fetch failed|ECONNREFUSED/);
    } finally {
      rmSync(consumer, { recursive: true, force: true });
    }
  }, 240_000);
});
