/**
 * Runs the emulator by hand: `PORT=8787 tsx src/dev/dropboxEmulator/main.ts`.
 * SEED_DEMO=1 also creates the demo account and app and prints a refresh token. Stops on Ctrl-C.
 */
import { seedDemo, startDropboxEmulator } from './index';

async function main(): Promise<void> {
  const port = Number(process.env['PORT'] ?? 8787);
  const host = process.env['HOST'] ?? '127.0.0.1';
  const seed = process.env['SEED'] === undefined ? undefined : Number(process.env['SEED']);
  const emulator = await startDropboxEmulator({ port, host, ...(seed === undefined ? {} : { seed }) });
  process.stdout.write(`Dropbox emulator listening on ${emulator.url}\n`);
  if (process.env['SEED_DEMO'] === '1') {
    const demo = seedDemo(emulator);
    process.stdout.write(`demo account ${demo.email} (${demo.accountId}), folder "${demo.folderPath}"\n`);
    process.stdout.write(`demo app ${demo.appKey}, refresh token ${demo.refreshToken}\n`);
  }
  const stop = () => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
