/**
 * Docker cannot run on the build machine, so the deployment files are checked for what can go
 * wrong without it: they parse, name official images, set exactly the variables the config module
 * reads (and every one it requires), and run files the build produces.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { API_ENV_NAMES, WORKER_ENV_NAMES, requiredEnvNames } from '../../src/config';
import { runCommand } from '../../src/dev/runCommand';
import { requireEnv } from '../support/testEnv';

const root = resolve(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  restart?: string;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const { services } = compose;

/** check-jsonschema against the Compose Specification's schema, as `docker compose` validates. */
const validateCompose = (file: string) =>
  runCommand(requireEnv('CHECK_JSONSCHEMA'), ['--builtin-schema', 'vendor.compose-spec', file]);

describe('docker-compose.yml and Dockerfile', () => {
  it("is valid by the Compose Specification's schema (and the check tells a file that is not)", async () => {
    const valid = await validateCompose(join(root, 'docker-compose.yml'));
    assert.equal(valid.code, 0, `${valid.stdout}\n${valid.stderr}`);
    const dir = await mkdtemp(join(tmpdir(), 'dfs-compose-'));
    try {
      // A misspelt key in one service: the schema allows no unknown service properties.
      const broken = join(dir, 'docker-compose.yml');
      const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
      assert.match(text, /^ {4}healthcheck:$/mu);
      await writeFile(broken, text.replace(/^ {4}healthcheck:$/mu, '    healthchek:'));
      const invalid = await validateCompose(broken);
      assert.notEqual(invalid.code, 0);
      assert.match(`${invalid.stdout}${invalid.stderr}`, /healthchek/u);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has the services the README names, with official images for everything not built here', () => {
    for (const name of ['temporal', 'temporal-postgresql', 'temporal-ui', 'temporal-search-attributes', 'mongodb', 'api', 'worker']) {
      assert.ok(services[name], `service ${name} is missing`);
    }
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      assert.match(service.image ?? '', /^(temporalio\/[a-z-]+|mongo|postgres):[\w.-]+$/u, `${name} uses ${service.image}`);
    }
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const named = [...readme.matchAll(/compose service `([a-z-]+)`/gu)].map((m) => m[1]!);
    for (const name of named) assert.ok(services[name], `README names a service "${name}" the compose file lacks`);
  });

  it('sets only variables the config module reads, and every one it requires', () => {
    for (const [name, kind, known] of [
      ['api', 'api', API_ENV_NAMES],
      ['worker', 'worker', WORKER_ENV_NAMES],
    ] as const) {
      const env = Object.keys(services[name]!.environment ?? {});
      for (const variable of env) assert.ok((known as readonly string[]).includes(variable), `${name} sets ${variable}, which nothing reads`);
      for (const variable of requiredEnvNames(kind)) assert.ok(env.includes(variable), `${name} lacks ${variable}`);
    }
    assert.match(String(services.api!.environment!.TOKEN_ENCRYPTION_KEY), /^\$\{TOKEN_ENCRYPTION_KEY:\?/u, 'secrets come from the caller');
    assert.match(String(services.api!.environment!.ROOT_API_KEY), /^\$\{ROOT_API_KEY:\?/u);
    assert.equal(services.api!.environment!.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(services.worker!.environment!.MONGODB_URI, services.api!.environment!.MONGODB_URI);
  });

  it('checks health, starts the app only once its servers are healthy and the search attributes exist', () => {
    for (const name of ['temporal', 'temporal-postgresql', 'mongodb', 'api']) {
      assert.ok(services[name]!.healthcheck?.test, `${name} has no health check`);
    }
    for (const name of ['api', 'worker']) {
      const deps = services[name]!.depends_on ?? {};
      assert.equal(deps.mongodb?.condition, 'service_healthy');
      assert.equal(deps['temporal-search-attributes']?.condition, 'service_completed_successfully');
    }
    const register = JSON.stringify(services['temporal-search-attributes']!.command);
    for (const key of ['MappingId', 'ProjectId', 'DropboxPath', 'SyncState']) assert.ok(register.includes(key), key);
    assert.ok(services.api!.ports?.some((p) => p.endsWith(':3000')));
    // A worker or API that exits on a fatal error comes back by itself.
    for (const name of ['api', 'worker']) assert.equal(services[name]!.restart, 'unless-stopped', name);
    assert.ok(services['temporal-ui']!.ports?.length);
  });

  it('makes the worker\'s build the current deployment version once the worker has started, with the worker\'s own settings', () => {
    const oneShot = services['worker-current-version']!;
    assert.deepEqual(oneShot.command, ['node', 'dist/src/setCurrentVersion.js']);
    assert.ok(existsSync(join(root, 'src/setCurrentVersion.ts')));
    assert.equal(oneShot.depends_on?.worker?.condition, 'service_started');
    assert.deepEqual(oneShot.environment, services.worker!.environment, 'the same deployment name and build id as the worker');
  });

  it('runs files the build produces, copied from paths that exist', () => {
    const commands = ['api', 'worker'].map((name) => services[name]!.command!.join(' '));
    assert.deepEqual(commands, ['node dist/src/api/main.js', 'node dist/src/worker.js']);
    // tsconfig.build.json compiles src/ to dist/src/ and `npm run build` writes dist/workflow-bundle.js,
    // which dist/src/worker.js loads from one folder up.
    assert.ok(existsSync(join(root, 'src/api/main.ts')) && existsSync(join(root, 'src/worker.ts')));
    assert.match(readFileSync(join(root, 'src/worker.ts'), 'utf8'), /'\.\.\/workflow-bundle\.js'/u);
    assert.match(readFileSync(join(root, 'scripts/bundleWorkflows.ts'), 'utf8'), /'\.\.\/workflow-bundle\.js'/u);
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gmu)) {
      for (const source of match[1]!.split(/\s+/u)) assert.ok(existsSync(join(root, source)), `Dockerfile copies missing ${source}`);
    }
    assert.match(dockerfile, /RUN npm run build/u);
    assert.match(dockerfile, /npm ci --omit=dev/u);
    assert.match(dockerfile, /^USER node$/mu);
  });
});
