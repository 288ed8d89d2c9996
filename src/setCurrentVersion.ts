/**
 * `node dist/src/setCurrentVersion.js`: makes this build's deployment version current, once one
 * of its workers polls (docker-compose runs it after the worker starts). The same as
 * `temporal worker deployment set-current-version --deployment-name … --build-id …`.
 */
import { readWorkerConfig } from './config';
import { connectTemporalWorker } from './worker';
import { makeVersionCurrent, workerDeploymentVersion } from './workerDeployment';

async function main(): Promise<void> {
  const config = readWorkerConfig();
  const version = workerDeploymentVersion(config);
  const connection = await connectTemporalWorker(config);
  try {
    await makeVersionCurrent(connection.workflowService, config.temporal.namespace, version, { timeoutMs: 5 * 60_000 });
    process.stdout.write(`current version of ${version.deploymentName}: ${version.buildId}\n`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
