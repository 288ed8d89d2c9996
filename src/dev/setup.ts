/**
 * `npm run setup`: installs the development tools into the cache (nothing into the repo) and
 * prints where they are. Safe to run again; done steps are skipped.
 */
import { defaultCacheDir, installTools } from './tools';

async function main(): Promise<void> {
  const cacheDir = defaultCacheDir(process.env);
  const started = Date.now();
  console.log(`Installing development tools into ${cacheDir}`);
  const paths = await installTools({ cacheDir, env: process.env, log: (line) => console.log(`  ${line}`) });
  console.log(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
  console.log(`  TEMPORAL_CLI_PATH=${paths.temporalCli}`);
  console.log(`  TEMPORAL_TEST_SERVER_PATH=${paths.temporalTestServer}`);
  console.log(`  FERRETDB_PATH=${paths.ferretDb}`);
}

main().catch((err: unknown) => {
  console.error(`setup failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
