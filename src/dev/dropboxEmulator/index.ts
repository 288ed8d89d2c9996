import type { AddressInfo } from 'node:net';
import { type DropboxEmulatorControl, EmulatorState } from './emulator';
import { seedDemo } from './seedDemo';
import { createEmulatorServer } from './server';

export type { AccountInput, TokenOptions } from './accounts';
export { DEFAULT_SCOPES } from './accounts';
export type { CallCounts } from './callCounter';
export type { AccountSummary, BulkAddResult, DropboxEmulatorControl } from './emulator';
export type { FaultSettings, ScriptedFault, Violation } from './faults';
export type { WebhookCounts, WebhookRegistration, WebhookSettings } from './webhooks';
export type { MetadataJson } from './metadata';
export type { AppInput, RegisteredApp, TokenEndpointCounts } from './oauth';
export type { BulkAddOptions, FileContent } from './tree';
export { type DemoSeed, DEMO_APP_KEY, DEMO_EMAIL, DEMO_FOLDER, seedDemo } from './seedDemo';
export { sdkClientFor } from './sdkClient';

export interface DropboxEmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Seeds fault injection so that injected 5xx/429 answers repeat run to run. */
  seed?: number;
  /** Clock for timestamps, token expiry and Retry-After enforcement (default Date.now). */
  now?: () => number;
}

export interface DropboxEmulator extends DropboxEmulatorControl {
  /** Origin to send Dropbox API calls to, e.g. http://127.0.0.1:54321 (stands in for https://api.dropboxapi.com). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a Dropbox API v2 emulator on a local port. */
export async function startDropboxEmulator(options: DropboxEmulatorOptions = {}): Promise<DropboxEmulator> {
  const host = options.host ?? '127.0.0.1';
  const state = new EmulatorState({
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.now ? { now: options.now } : {}),
  });
  const server = createEmulatorServer({ state, seedDemo: () => seedDemo(state) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const close = () =>
    new Promise<void>((resolve, reject) => {
      state.webhooks.stop();
      server.close((err) => (err ? reject(err) : resolve()));
      // Clients keep connections alive; without this, close() would wait for them to time out.
      server.closeAllConnections();
    });
  return { ...controlOf(state), url, close };
}

/** The control methods as plain functions, so that they can be passed around unbound. */
function controlOf(s: EmulatorState): DropboxEmulatorControl {
  return {
    addAccount: (input) => s.addAccount(input),
    listAccounts: () => s.listAccounts(),
    issueToken: (accountId, options) => s.issueToken(accountId, options),
    expireToken: (token) => s.expireToken(token),
    revokeToken: (token) => s.revokeToken(token),
    registerApp: (input) => s.registerApp(input),
    setAccessTokenLifetime: (appKey, seconds) => s.setAccessTokenLifetime(appKey, seconds),
    grantOffline: (appKey, accountId, options) => s.grantOffline(appKey, accountId, options),
    revokeGrant: (refreshToken) => s.revokeGrant(refreshToken),
    tokenCalls: () => s.tokenCalls(),
    resetTokenCalls: () => s.resetTokenCalls(),
    addFolder: (accountId, path) => s.addFolder(accountId, path),
    addFile: (accountId, path, content) => s.addFile(accountId, path, content),
    modifyFile: (accountId, path, content) => s.modifyFile(accountId, path, content),
    move: (accountId, fromPath, toPath) => s.move(accountId, fromPath, toPath),
    remove: (accountId, path) => s.remove(accountId, path),
    changeRootNamespace: (accountId) => s.changeRootNamespace(accountId),
    bulkAddFiles: (accountId, folderPath, count, options) =>
      s.bulkAddFiles(accountId, folderPath, count, options),
    entry: (accountId, path) => s.entry(accountId, path),
    forceCursorReset: (accountId, folderPath) => s.forceCursorReset(accountId, folderPath),
    setFaults: (changes) => s.setFaults(changes),
    faults: () => s.faults(),
    clearFaults: () => s.clearFaults(),
    failNext: (fault, count) => s.failNext(fault, count),
    violations: () => s.violations(),
    corruptNextDownloads: (count) => s.corruptNextDownloads(count),
    calls: () => s.calls(),
    resetCalls: () => s.resetCalls(),
    registerWebhook: (registration) => s.registerWebhook(registration),
    webhookCounts: () => s.webhookCounts(),
    setWebhookSettings: (changes) => s.setWebhookSettings(changes),
    reset: () => s.reset(),
  };
}
