/**
 * `npm run bench`: how the folder sync performs, each figure beside a reference measured in the
 * same run. Scenarios:
 *   1. initial sync of one large folder vs the raw limit (SDK paging + one insertMany);
 *   2. idle cycles: Dropbox calls, MongoDB writes, history events and bytes per cycle;
 *   3. many mappings on one worker at 5,000-mappings-per-five-minutes cycle rate: lag, CPU, RSS;
 *   4. history growth per day and the continue-as-new period, from scenario 2.
 * `--quick` runs a short version; see bench/args.ts for the flags.
 */
import os from 'node:os';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { parseArgs } from './args';
import { runIdleCycles } from './idleCycle';
import { runInitialSync } from './initialSync';
import { machineLine } from './machine';
import { runManyMappings } from './manyMappings';
import { resultsTable, say } from './report';
import { openStack } from './stack';

function ferretDbLabel(binPath: string | undefined): string {
  return binPath ? `FerretDB (own, SQLite, ${binPath})` : 'FerretDB (own, SQLite)';
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  say(machineLine());
  say(`command: npm run bench -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  say(
    `settings: sizes ${args.sizes.join(',') || 'none'}; mappings ${args.mappings.join(',') || 'none'}; ` +
      `idle cycles ${args.idleCycles} at ${args.idlePollMs} ms; page limit ${args.pageLimit}; ` +
      `tuning ${JSON.stringify(args.tuning)}; server config ${JSON.stringify(args.serverConfig)}` +
      (args.cyclesPerRun ? `; cycles per run ${args.cyclesPerRun}` : ''),
  );
  const started = Date.now();
  const stack = await openStack(args.serverConfig);
  try {
    say(
      `servers: MongoDB ${process.env.MONGODB_URI ? 'from MONGODB_URI' : ferretDbLabel(process.env.FERRETDB_PATH)}, ` +
        `Temporal ${process.env.TEMPORAL_ADDRESS ? 'from TEMPORAL_ADDRESS' : 'dev server (own, in-memory)'}`,
    );
    for (const n of args.sizes) await runInitialSync(stack, args, n);
    if (args.idleCycles > 0) await runIdleCycles(stack, args);
    const kept: number[] = [];
    const missed: number[] = [];
    for (const n of args.mappings) {
      const result = await runManyMappings(stack, args, n);
      (result.keptUp ? kept : missed).push(n);
    }
    if (args.mappings.length > 0) {
      say(
        `\nkeeps up (lag p99 < 30 s, RSS < 1 GB, no cycle left unstarted for 30 s) at: ${kept.join(', ') || 'none'}; ` +
          `not at: ${missed.join(', ') || 'none'}`,
      );
    }
  } finally {
    await stack.close();
  }
  say(
    `\n## Results (${((Date.now() - started) / 60_000).toFixed(1)} min; load avg at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})\n`,
  );
  say(resultsTable());
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
