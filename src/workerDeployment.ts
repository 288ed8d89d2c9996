/**
 * Worker Deployment Versioning: every worker runs under a deployment name and a build id. A
 * mapping's run is pinned to the version it started on, and moves to the deployment's current
 * version when it continues as new; so a changed workflow never replays a history recorded by
 * other code. README ("Rolling out a workflow change") says how a new build becomes current.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { ConfigError, type WorkerConfig } from './config';

/** The project's root, from src/ under tsx and from dist/src/ once compiled. */
const ROOT = [path.resolve(__dirname, '..'), path.resolve(__dirname, '../..')].find((dir) =>
  existsSync(path.join(dir, 'package.json')),
)!;

/**
 * The build id: WORKER_BUILD_ID, or the package version and the git commit. Without git (a
 * Docker image), the prebuilt workflow bundle's hash stands for the commit: it changes exactly
 * when the workflow code does.
 */
export function workerBuildId(config: Pick<WorkerConfig, 'deployment'>): string {
  if (config.deployment.buildId) return config.deployment.buildId;
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    return `${version}-${commit.toString().trim()}`;
  } catch {
    // Where the compiled worker loads it from (src/worker.ts): dist/workflow-bundle.js.
    const bundle = path.resolve(__dirname, '../workflow-bundle.js');
    if (!existsSync(bundle)) {
      throw new ConfigError('WORKER_BUILD_ID is missing, and there is no git commit or workflow bundle to derive it from');
    }
    return `${version}-${createHash('sha256').update(readFileSync(bundle)).digest('hex').slice(0, 12)}`;
  }
}

export function workerDeploymentVersion(config: Pick<WorkerConfig, 'deployment'>): WorkerDeploymentVersion {
  return { deploymentName: config.deployment.name, buildId: workerBuildId(config) };
}

/** The worker's options: versioned, and the mapping workflow pinned to the version it started on. */
export function workerDeploymentOptions(version: WorkerDeploymentVersion): WorkerDeploymentOptions {
  return { version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
}

type WorkflowService = Pick<temporal.api.workflowservice.v1.WorkflowService, 'setWorkerDeploymentCurrentVersion'>;
type DeploymentService = WorkflowService &
  Pick<temporal.api.workflowservice.v1.WorkflowService, 'describeWorkerDeployment'>;

/** The deployment's current build id; null while it has none (or no worker of it ever polled). */
export async function currentBuildId(
  service: Pick<DeploymentService, 'describeWorkerDeployment'>,
  namespace: string,
  deploymentName: string,
): Promise<string | null> {
  try {
    const described = await service.describeWorkerDeployment({ namespace, deploymentName });
    return described.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || null;
  } catch (err) {
    if ((err as { code?: number }).code === GRPC_NOT_FOUND) return null;
    throw err;
  }
}

const GRPC_NOT_FOUND = 5;

/**
 * Makes `version` current unless the deployment already has another current version, which is
 * returned instead: a developer's worker joining a shared Temporal (`npm run dev` with
 * TEMPORAL_ADDRESS) must not take over the mappings that run elsewhere.
 */
export async function makeVersionCurrentIfNone(
  service: DeploymentService,
  namespace: string,
  version: WorkerDeploymentVersion,
  options?: { timeoutMs?: number },
): Promise<{ made: true } | { made: false; current: string }> {
  const current = await currentBuildId(service, namespace, version.deploymentName);
  if (current !== null && current !== version.buildId) return { made: false, current };
  await makeVersionCurrent(service, namespace, version, options);
  return { made: true };
}

/**
 * Makes `version` the deployment's current version: new mappings start on it, and running ones
 * move to it when they next continue as new. The server knows a version once one of its workers
 * has polled, so this waits for that (up to `timeoutMs`).
 */
export async function makeVersionCurrent(
  service: WorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
  { timeoutMs = 60_000, identity = 'dropbox-folder-sync' }: { timeoutMs?: number; identity?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        identity,
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(`could not make ${version.deploymentName}/${version.buildId} current: ${reason}`);
      }
      await new Promise((done) => setTimeout(done, 250));
    }
  }
}
