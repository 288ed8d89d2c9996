import { z } from 'zod';
import { DEFAULT_CONTENT_CONCURRENCY, DEFAULT_MAX_FILE_BYTES } from './domain/contentLimits';
import { DEFAULT_SPECIAL_CHARACTERS } from './domain/pathPolicy';

/** Durations as people write them: `250ms`, `30s`, `5m`, `1h`; a bare number is milliseconds. */
export function parseDuration(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/u.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(n * factor);
  return ms > 0 ? ms : undefined;
}

const duration = (fallback: string, minMs = 1) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'is not a duration such as 30s, 5m or 1h' });
        return z.NEVER;
      }
      if (ms < minMs) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${minMs} ms (a bare number is milliseconds: write 30s, 5m or 1h)` });
        return z.NEVER;
      }
      return ms;
    });

const encryptionKey = z.string().transform((v, ctx) => {
  const raw = /^[0-9a-f]{64}$/iu.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (raw.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hex digits or base64' });
    return z.NEVER;
  }
  return raw;
});

// http(s) with a host: `new URL` also takes `localhost:8787` (scheme "localhost:"), which would
// start the process and fail every call.
const httpUrl = () => z.url({ protocol: /^https?$/u, hostname: /^.+$/u, error: 'must be an http:// or https:// URL' });
const url = (fallback?: string) => (fallback ? httpUrl().default(fallback) : httpUrl());

const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/u, 'must be host:port')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'must name a port up to 65535');

const baseSchema = z.object({
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//u, 'must be a mongodb:// or mongodb+srv:// URI'),
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).default('false'),
  TASK_QUEUE: z.string().min(1).default('dropbox-sync'),
  // Below a second, every mapping would call Dropbox several times a second and be rate limited;
  // `300` meant as seconds is 300 ms, and a mapping keeps the interval it started with.
  POLL_INTERVAL: duration('5m', 1_000),
  DROPBOX_API_URL: url('https://api.dropboxapi.com'),
  DROPBOX_PAGE_LIMIT: z.coerce.number().int().min(1).max(2000).default(2000),
  // The service's own Dropbox app ("Connect with Dropbox"); without them that button is off.
  DROPBOX_APP_KEY: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/u, 'must be the app key from the Dropbox App Console').optional(),
  DROPBOX_APP_SECRET: z.string().min(1).max(200).optional(),
  // Where the browser goes to authorize: Dropbox's own, or the emulator in demos and tests.
  DROPBOX_OAUTH_URL: url('https://www.dropbox.com'),
  SPECIAL_CHARACTERS: z.string().min(1).default(DEFAULT_SPECIAL_CHARACTERS),
  TOKEN_ENCRYPTION_KEY: encryptionKey,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  // 0 is the SDK's "no cache": every workflow task replays its run's history.
  WORKFLOW_CACHE_SIZE: z.coerce.number().int().min(0).optional(),
  METRICS_ADDRESS: hostPort.optional(),
  // Worker Deployment Versioning: a mapping's run stays on the build it started on (README, rollouts).
  WORKER_DEPLOYMENT_NAME: z.string().min(1).default('dropbox-folder-sync'),
  WORKER_BUILD_ID: z.string().regex(/^[\w.+-]{1,255}$/u, 'must be letters, digits and . _ + - only').optional(),
  CONTENT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(DEFAULT_CONTENT_CONCURRENCY),
  MAX_FILE_BYTES: z.coerce.number().int().min(0).default(DEFAULT_MAX_FILE_BYTES),
});

const apiSchema = baseSchema.extend({
  ROOT_API_KEY: z.string().min(24, 'must be at least 24 characters'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  // Where Dropbox sends the browser back to (and posts webhooks); http://127.0.0.1:$PORT by default.
  PUBLIC_URL: url().optional(),
  // Below the ≈ 500 idle cycles at which the server would suggest continuing as new anyway.
  CYCLES_PER_RUN: z.coerce.number().int().min(1).max(500).optional(),
  // The Temporal Web UI, for the admin page's link to a mapping's workflow; no link when absent.
  TEMPORAL_UI_URL: url().optional(),
});

/** Every variable the worker reads, and the API on top; for deployment files and their tests. */
export const WORKER_ENV_NAMES = Object.keys(baseSchema.shape) as (keyof typeof baseSchema.shape)[];
export const API_ENV_NAMES = Object.keys(apiSchema.shape) as (keyof typeof apiSchema.shape)[];

/** Variables without a default: the process refuses to start without them. */
export function requiredEnvNames(kind: 'worker' | 'api'): string[] {
  const schema = kind === 'api' ? apiSchema : baseSchema;
  return Object.entries(schema.shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([name]) => name);
}

export type WorkerConfig = ReturnType<typeof toWorkerConfig>;
export type ApiConfig = ReturnType<typeof toApiConfig>;

function toWorkerConfig(env: z.infer<typeof baseSchema>) {
  return {
    mongodbUri: env.MONGODB_URI,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      apiKey: env.TEMPORAL_API_KEY,
      tls: env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY !== undefined,
    },
    taskQueue: env.TASK_QUEUE,
    pollIntervalMs: env.POLL_INTERVAL,
    dropbox: {
      apiUrl: env.DROPBOX_API_URL,
      pageLimit: env.DROPBOX_PAGE_LIMIT,
      appKey: env.DROPBOX_APP_KEY,
      appSecret: env.DROPBOX_APP_SECRET,
      oauthUrl: env.DROPBOX_OAUTH_URL,
    },
    specialCharacters: env.SPECIAL_CHARACTERS,
    tokenEncryptionKey: env.TOKEN_ENCRYPTION_KEY,
    logLevel: env.LOG_LEVEL,
    /** Workflows a worker keeps in memory between cycles (the SDK's default when absent). */
    workflowCacheSize: env.WORKFLOW_CACHE_SIZE,
    /** Where the worker serves the SDK's Prometheus metrics (`/metrics`); none when absent. */
    metricsAddress: env.METRICS_ADDRESS,
    /** The worker's deployment; its build id is WORKER_BUILD_ID, or the package version and commit. */
    deployment: { name: env.WORKER_DEPLOYMENT_NAME, buildId: env.WORKER_BUILD_ID },
    /** Downloads a worker runs at once; files larger than maxFileBytes are rejections. */
    contents: { concurrency: env.CONTENT_CONCURRENCY, maxFileBytes: env.MAX_FILE_BYTES },
  };
}

function toApiConfig(env: z.infer<typeof apiSchema>) {
  return {
    ...toWorkerConfig(env),
    rootApiKey: env.ROOT_API_KEY,
    port: env.PORT,
    host: env.HOST,
    publicUrl: (env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/+$/u, ''),
    /** Cycles a mapping's workflow run holds before it continues as new; the workflow's 12 when absent. */
    cyclesPerRun: env.CYCLES_PER_RUN,
    /** The Temporal Web UI's address, for links to workflows; none when absent. */
    temporalUiUrl: env.TEMPORAL_UI_URL,
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parse<S extends z.ZodType>(schema: S, given: NodeJS.ProcessEnv): z.infer<S> {
  // An empty variable (`MAX_FILE_BYTES=` in an env file) is an unset one: its default, or "is
  // missing". Numbers would otherwise read it as 0: no file copied, a random port.
  const env = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  // Names the variable and the rule, never the value: some of them are secrets.
  const problems = result.error.issues.map((i) => {
    const name = String(i.path[0] ?? '?');
    return env[name] === undefined ? `${name} is missing` : `${name} ${i.message}`;
  });
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}

export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return toWorkerConfig(parse(baseSchema, env));
}

export function readApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return toApiConfig(parse(apiSchema, env));
}
