/**
 * The OpenAPI document is the behaviour: schemathesis generates requests from /openapi.json
 * (valid ones, invalid ones, boundary values, methods the document does not list) and checks
 * every answer against the document. Run over real servers with real data, so the
 * authenticated routes answer 2xx as well as their errors. Bounded and seeded, on one worker:
 * the same requests in the same order every run.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeQuietly } from '../../src/dev/atomicInstall';
import { runCommand } from '../../src/dev/runCommand';
import { requireEnv } from '../support/testEnv';
import { createConformanceFixtures, schemathesisConfig } from './conformanceFixtures';
import { expectStatus } from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

const SEED = 20261204;
// Per operation and phase; ~1 minute for the whole document on 2 cores.
const MAX_EXAMPLES = 100;

// Every check schemathesis has: server errors; status codes, content types, headers and bodies
// the document does not describe; a valid request refused (an undocumented rule); an invalid
// one accepted (a limit not enforced); a method the document does not list answered otherwise
// than 405; a route that ignores its authentication.
const CHECKS = 'all';

// No stateful phase: it chains calls on ids taken from answers (deleting the fixtures the other
// routes read, in an order that depends on the ids), so its results would differ run to run.
const PHASES = 'examples,coverage,fuzzing';

interface RunReport {
  operations: { total: number; tested: number; errored: number };
  failures: unknown[];
  errors: unknown[];
  valid_rates: Record<string, Record<string, { accepted: number }>>;
}

describe('the OpenAPI document against the running API (schemathesis)', () => {
  let h: ApiHarness;
  let dir: string;
  let documented: string[];
  let report: RunReport;
  let output: string;
  let exitCode: number | null;

  before(async () => {
    h = await startApiHarness({ worker: true });
    const fixtures = await createConformanceFixtures(h);
    dir = await mkdtemp(join(tmpdir(), 'dfs-openapi-'));
    const doc = await h.call('GET', '/openapi.json');
    expectStatus(doc, 200);
    documented = Object.entries(doc.body.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );

    const config = join(dir, 'schemathesis.toml');
    await writeFile(config, schemathesisConfig(h.rootKey, fixtures));
    const reportPath = join(dir, 'report.json');
    const result = await runCommand(
      requireEnv('SCHEMATHESIS'),
      [
        '--config-file',
        config,
        'run',
        `${h.url}/openapi.json`,
        '--checks',
        CHECKS,
        '--phases',
        PHASES,
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        String(SEED),
        '--workers',
        '1',
        // Nothing carried over from earlier runs: the seed alone decides the requests.
        '--generation-database',
        'none',
        '--no-color',
        '--report',
        'json',
        '--report-json-path',
        reportPath,
      ],
      { cwd: dir, env: process.env },
    );
    exitCode = result.code;
    output = `${result.stdout}${result.stderr}`;
    const text = await readFile(reportPath, 'utf8').catch(() => {
      throw new Error(`schemathesis wrote no report (exit code ${exitCode}):\n${output}`);
    });
    report = JSON.parse(text) as RunReport;
  });

  after(async () => {
    await h?.close();
    if (dir) await removeQuietly(dir);
  });

  it('finds no server error and no answer the document does not describe', () => {
    assert.deepEqual(report.failures, [], output);
    assert.deepEqual(report.errors, [], output);
    assert.equal(exitCode, 0, output);
  });

  it('tests every documented operation', () => {
    assert.equal(report.operations.total, documented.length, output);
    assert.equal(report.operations.tested, documented.length, output);
    assert.equal(report.operations.errored, 0, output);
  });

  it('reaches past authentication: the authenticated routes accept generated requests', () => {
    // Routes whose valid requests Dropbox refuses (a random token) or that delete their one
    // fixture at the first call are the exceptions; every other route must have answered 2xx.
    const accepted = Object.entries(report.valid_rates)
      .filter(([, phases]) => Object.values(phases).some((phase) => phase.accepted > 0))
      .map(([name]) => name);
    const P = '/v1/projects/{projectId}/dropbox';
    for (const name of [
      'GET /v1/me',
      'PATCH /v1/orgs/{orgId}',
      'PUT /v1/projects/{projectId}/members/{userId}',
      `GET ${P}/connections/{connectionId}/folders`,
      `GET ${P}/mappings/{mappingId}`,
      `GET ${P}/mappings/{mappingId}/files`,
      `GET ${P}/mappings/{mappingId}/files/{fileId}/content`,
      `GET ${P}/mappings/{mappingId}/rejections`,
      `POST ${P}/mappings/{mappingId}/pause`,
    ])
      assert.ok(accepted.includes(name), `${name} accepted none of its generated requests:\n${output}`);
  });
});
