/**
 * Command-line flags of `npm run bench`. Everything has a full-run default; `--quick` shrinks
 * the defaults so that a run validates the benchmark in a few minutes.
 */
import type { WorkerOptions } from '@temporalio/worker';

export interface BenchArgs {
  quick: boolean;
  /** Folder sizes of the initial-sync scenario; empty skips it. */
  sizes: number[];
  /** Mapping counts of the many-mappings scenario; empty skips it. */
  mappings: number[];
  /** Idle cycles measured in the idle-cycle scenario (0 skips it). */
  idleCycles: number;
  idlePollMs: number;
  /** Total cycle rate of the many-mappings scenario: 5,000 mappings every five minutes. */
  cyclesPerSecond: number;
  /** Poll intervals measured after the ramp, per mapping count. */
  windowIntervals: number;
  /** Many mappings: cycles per run before continue-as-new; the workflow's default when absent. */
  cyclesPerRun?: number;
  /**
   * Many mappings: connect with a refresh token whose access tokens live this long (seconds);
   * absent, with an access token that never expires.
   */
  tokenLifetimeSeconds?: number;
  /** Files in each folder of the many-mappings scenario. */
  filesPerMapping: number;
  pageLimit: number;
  /** Worker options for every worker the bench starts (JSON), e.g. {"maxCachedWorkflows":6000}. */
  tuning: Partial<WorkerOptions>;
  /** Dynamic config for the dev server the bench starts itself (JSON), key to value. */
  serverConfig: Record<string, string | number | boolean>;
  /** Extra node flags for the worker process, e.g. --cpu-prof. */
  workerNodeArgs: string[];
  /** Skip the raw reference measurement (SDK paging + one insertMany). */
  skipRaw: boolean;
  /** Initial sync: how many times each side runs, interleaved (raw, workflow, raw, workflow, …). */
  repeats: number;
  /** Print where each initial sync's wall time went, from its history. */
  timeline: boolean;
}

const USAGE = `npm run bench -- [--quick] [--sizes=10000,100000] [--mappings=500,2000,5000]
  [--idle-cycles=12] [--idle-poll=3000] [--window=2] [--cycles-per-run=12] [--files-per-mapping=0]
  [--rate=16.67] [--page-limit=2000] [--tuning='{"maxCachedWorkflows":6000}']
  [--server-config='{"history.cacheMaxSize":512}']
  [--worker-node-args='--cpu-prof --cpu-prof-dir=/tmp/prof'] [--skip-raw] [--timeline]
  [--repeats=3] [--token-lifetime=SECONDS]
Servers: MONGODB_URI / TEMPORAL_ADDRESS name servers to use; otherwise the bench starts its own
FerretDB and Temporal dev server from the tools cache (installed when missing).`;

function numbers(value: string, flag: string): number[] {
  if (value.trim() === '' || value === 'none') return [];
  return value.split(',').map((part) => {
    const n = Number(part.replace(/_/g, '').trim());
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: "${part}" is not a number\n${USAGE}`);
    return n;
  });
}

function single(value: string, flag: string): number {
  const [n] = numbers(value, flag);
  if (n === undefined) throw new Error(`${flag} needs a number\n${USAGE}`);
  return n;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const quick = argv.includes('--quick');
  const args: BenchArgs = {
    quick,
    sizes: quick ? [10_000] : [10_000, 100_000],
    mappings: quick ? [500] : [500, 2_000, 5_000],
    // A whole run's cycles, so the figures include one continue-as-new in its share.
    idleCycles: quick ? 6 : 12,
    idlePollMs: 3_000,
    cyclesPerSecond: 5_000 / 300,
    windowIntervals: quick ? 1 : 2,
    filesPerMapping: 0,
    pageLimit: 2_000,
    tuning: {},
    serverConfig: {},
    workerNodeArgs: [],
    skipRaw: false,
    // Either side's time varies by a third or more from run to run on this machine (BENCHMARKS.md).
    repeats: quick ? 2 : 3,
    timeline: false,
  };
  for (const arg of argv) {
    if (arg === '--quick') continue;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (arg === '--skip-raw') {
      args.skipRaw = true;
      continue;
    }
    if (arg === '--timeline') {
      args.timeline = true;
      continue;
    }
    const m = /^--([a-z-]+)=(.*)$/su.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}\n${USAGE}`);
    const [, name = '', value = ''] = m;
    switch (name) {
      case 'sizes':
        args.sizes = numbers(value, name);
        break;
      case 'mappings':
        args.mappings = numbers(value, name);
        break;
      case 'idle-cycles':
        args.idleCycles = single(value, name);
        break;
      case 'idle-poll':
        args.idlePollMs = single(value, name);
        break;
      case 'window':
        args.windowIntervals = single(value, name);
        break;
      case 'cycles-per-run':
        args.cyclesPerRun = Math.max(1, Math.round(single(value, name)));
        break;
      case 'token-lifetime':
        args.tokenLifetimeSeconds = Math.max(1, Math.round(single(value, name)));
        break;
      case 'files-per-mapping':
        args.filesPerMapping = single(value, name);
        break;
      case 'rate':
        args.cyclesPerSecond = single(value, name);
        break;
      case 'repeats':
        args.repeats = Math.max(1, Math.round(single(value, name)));
        break;
      case 'page-limit':
        args.pageLimit = single(value, name);
        break;
      case 'tuning':
        args.tuning = JSON.parse(value) as Partial<WorkerOptions>;
        break;
      case 'server-config':
        args.serverConfig = JSON.parse(value) as BenchArgs['serverConfig'];
        break;
      case 'worker-node-args':
        args.workerNodeArgs = value.split(/\s+/u).filter(Boolean);
        break;
      default:
        throw new Error(`unknown flag --${name}\n${USAGE}`);
    }
  }
  return args;
}
