import { type Account, type AccountInput, AccountRegistry, type TokenOptions } from './accounts';
import type { ApiDeps } from './apiRoutes';
import { CallCounter, type CallCounts } from './callCounter';
import { CursorCodec } from './cursor';
import { type FaultSettings, FaultInjector, type ScriptedFault, type Violation } from './faults';
import { metadataOf, type MetadataJson } from './metadata';
import { type AppInput, OAuthServer, type RegisteredApp, type TokenEndpointCounts } from './oauth';
import { normalizeControlPath } from './paths';
import { createRandom } from './prng';
import { type BulkAddOptions, type FileContent, FileTree } from './tree';
import {
  type WebhookCounts,
  WebhookNotifier,
  type WebhookRegistration,
  type WebhookSettings,
} from './webhooks';

export interface EmulatorStateOptions {
  /** Seeds fault injection (default 1), so that a run's 5xx and 429 answers repeat. */
  seed?: number;
  /** Clock for timestamps, token expiry and Retry-After (default Date.now). */
  now?: () => number;
}

export interface AccountSummary {
  accountId: string;
  email: string;
  name: string;
  team: boolean;
  rootNamespaceId: string;
  homeNamespaceId: string;
  homePath?: string;
}

export interface BulkAddResult {
  count: number;
  firstPath: string;
  lastPath: string;
}

/** The control interface that tests, the dev launcher and benchmarks drive the emulator with. */
export interface DropboxEmulatorControl {
  addAccount(input: AccountInput): AccountSummary;
  listAccounts(): AccountSummary[];
  issueToken(accountId: string, options?: TokenOptions): string;
  expireToken(token: string): void;
  revokeToken(token: string): void;
  /** An app as the App Console registers it; its key and secret. */
  registerApp(input: AppInput): RegisteredApp;
  /** Seconds that the app's new access tokens live (four hours by default). */
  setAccessTokenLifetime(appKey: string, seconds: number): void;
  /** A refresh token as an offline code flow would give it, without the consent page. */
  grantOffline(appKey: string, accountId: string, options?: { pkce?: boolean; scopes?: string[] }): string;
  /** The account unlinks the app: the refresh token and every access token from it end. */
  revokeGrant(refreshToken: string): void;
  tokenCalls(): TokenEndpointCounts;
  resetTokenCalls(): void;
  addFolder(accountId: string, path: string): MetadataJson;
  addFile(accountId: string, path: string, content?: FileContent): MetadataJson;
  /** New rev, content hash and server_modified. */
  modifyFile(accountId: string, path: string, content?: FileContent): MetadataJson;
  /** Rename or move a file or folder; ids stay. */
  move(accountId: string, fromPath: string, toPath: string): MetadataJson;
  /** Delete a file or a folder with everything in it. */
  remove(accountId: string, path: string): void;
  bulkAddFiles(accountId: string, folderPath: string, count: number, options?: BulkAddOptions): BulkAddResult;
  /** Current metadata at a path, as the API would show it. */
  entry(accountId: string, path: string): MetadataJson | undefined;
  /** Older cursors of the folder (or, without a path, of the whole account) then answer 409 reset. */
  forceCursorReset(accountId: string, folderPath?: string): void;
  /**
   * A team account's root namespace changes (its team moved to a team space, or the member
   * changed teams): a Dropbox-API-Path-Root naming the old one is answered 422 invalid_root.
   */
  changeRootNamespace(accountId: string): string;
  setFaults(changes: Partial<FaultSettings>): FaultSettings;
  faults(): FaultSettings;
  clearFaults(): void;
  failNext(fault: ScriptedFault, count?: number): void;
  violations(): Violation[];
  /** The next `count` downloads (default 1) send one wrong byte: a content-hash mismatch. */
  corruptNextDownloads(count?: number): void;
  calls(): CallCounts;
  resetCalls(): void;
  /** Registers an app's webhook URI after the challenge; refused when the URI does not echo it. */
  registerWebhook(registration: WebhookRegistration): Promise<void>;
  webhookCounts(): WebhookCounts;
  setWebhookSettings(changes: Partial<WebhookSettings>): WebhookSettings;
  /** Clears accounts, tokens, files, faults, violations, webhook apps and counts. */
  reset(): void;
}

/** Everything the emulator holds; the HTTP server and the control API both work on it. */
export class EmulatorState implements DropboxEmulatorControl {
  readonly now: () => number;
  readonly accounts: AccountRegistry;
  readonly faultInjector: FaultInjector;
  readonly counter = new CallCounter();
  readonly codec = new CursorCodec();
  readonly webhooks = new WebhookNotifier();
  readonly oauth: OAuthServer;
  private seq = 0;
  private ids = 0;
  private corruptDownloads = 0;

  constructor(options: EmulatorStateOptions = {}) {
    this.now = options.now ?? Date.now;
    const treeDeps = { nextSeq: () => ++this.seq, newId: () => this.newId(), now: this.now };
    this.accounts = new AccountRegistry({ now: this.now, newTree: () => new FileTree(treeDeps) });
    this.faultInjector = new FaultInjector({ random: createRandom(options.seed ?? 1), now: this.now });
    this.oauth = new OAuthServer({ accounts: this.accounts, now: this.now });
  }

  apiDeps(): ApiDeps {
    return {
      accounts: this.accounts,
      codec: this.codec,
      headSeq: () => this.seq,
      revokeAccessToken: (token) => this.oauth.revokeAccessToken(token),
    };
  }

  addAccount(input: AccountInput): AccountSummary {
    if (!input || typeof input.email !== 'string' || !input.email.includes('@')) {
      throw new Error('addAccount needs an email');
    }
    return summary(this.accounts.add(input));
  }

  listAccounts(): AccountSummary[] {
    return this.accounts.list().map(summary);
  }

  issueToken(accountId: string, options?: TokenOptions): string {
    return this.accounts.issueToken(accountId, options);
  }

  expireToken(token: string): void {
    this.accounts.expireToken(token);
  }

  revokeToken(token: string): void {
    this.accounts.revokeToken(token);
  }

  registerApp(input: AppInput): RegisteredApp {
    return this.oauth.registerApp(input);
  }

  setAccessTokenLifetime(appKey: string, seconds: number): void {
    this.oauth.setAccessTokenLifetime(appKey, seconds);
  }

  grantOffline(appKey: string, accountId: string, options?: { pkce?: boolean; scopes?: string[] }): string {
    return this.oauth.grantOffline(appKey, accountId, options);
  }

  revokeGrant(refreshToken: string): void {
    this.oauth.revokeGrant(refreshToken);
  }

  tokenCalls(): TokenEndpointCounts {
    return this.oauth.tokenCalls();
  }

  resetTokenCalls(): void {
    this.oauth.resetTokenCalls();
  }

  addFolder(accountId: string, path: string): MetadataJson {
    return this.changed(accountId, metadataOf(this.tree(accountId).ensureFolder(normalizeControlPath(path))));
  }

  addFile(accountId: string, path: string, content?: FileContent): MetadataJson {
    return this.changed(accountId, metadataOf(this.tree(accountId).addFile(normalizeControlPath(path), content)));
  }

  modifyFile(accountId: string, path: string, content?: FileContent): MetadataJson {
    return this.changed(
      accountId,
      metadataOf(this.tree(accountId).modifyFile(normalizeControlPath(path), content)),
    );
  }

  move(accountId: string, fromPath: string, toPath: string): MetadataJson {
    return this.changed(
      accountId,
      metadataOf(this.tree(accountId).move(normalizeControlPath(fromPath), normalizeControlPath(toPath))),
    );
  }

  remove(accountId: string, path: string): void {
    this.tree(accountId).remove(normalizeControlPath(path));
    this.changed(accountId, undefined);
  }

  bulkAddFiles(
    accountId: string,
    folderPath: string,
    count: number,
    options?: BulkAddOptions,
  ): BulkAddResult {
    if (!Number.isInteger(count) || count < 1) throw new Error('count must be a positive whole number');
    const created = this.tree(accountId).bulkAdd(normalizeControlPath(folderPath), count, options);
    return this.changed(accountId, {
      count: created.length,
      firstPath: created[0]?.pathDisplay ?? '',
      lastPath: created[created.length - 1]?.pathDisplay ?? '',
    });
  }

  entry(accountId: string, path: string): MetadataJson | undefined {
    const normalized = normalizeControlPath(path);
    if (normalized === '') return undefined;
    const node = this.tree(accountId).lookup(normalized.toLowerCase());
    return node ? metadataOf(node) : undefined;
  }

  changeRootNamespace(accountId: string): string {
    const account = this.account(accountId);
    if (!account.team) throw new Error('changeRootNamespace: only a team account has a root namespace of its own');
    account.rootNamespaceId = String(Number(account.rootNamespaceId) + 7);
    return account.rootNamespaceId;
  }

  forceCursorReset(accountId: string, folderPath?: string): void {
    const account = this.account(accountId);
    if (folderPath === undefined) {
      account.cursorGeneration += 1;
      return;
    }
    const key = normalizeControlPath(folderPath).toLowerCase();
    account.folderGenerations.set(key, (account.folderGenerations.get(key) ?? 0) + 1);
  }

  setFaults(changes: Partial<FaultSettings>): FaultSettings {
    return this.faultInjector.configure(changes);
  }

  faults(): FaultSettings {
    return this.faultInjector.settings();
  }

  clearFaults(): void {
    this.faultInjector.clear();
  }

  failNext(fault: ScriptedFault, count?: number): void {
    this.faultInjector.failNext(fault, count);
  }

  violations(): Violation[] {
    return this.faultInjector.violations();
  }

  corruptNextDownloads(count = 1): void {
    if (!Number.isInteger(count) || count < 1) throw new Error('count must be a positive whole number');
    this.corruptDownloads += count;
  }

  /** Whether this download is one of the corrupted ones; each call uses one up. */
  takeCorruptDownload(): boolean {
    if (this.corruptDownloads === 0) return false;
    this.corruptDownloads -= 1;
    return true;
  }

  calls(): CallCounts {
    return this.counter.snapshot();
  }

  resetCalls(): void {
    this.counter.reset();
  }

  registerWebhook(registration: WebhookRegistration): Promise<void> {
    return this.webhooks.register(registration);
  }

  webhookCounts(): WebhookCounts {
    return this.webhooks.counts();
  }

  setWebhookSettings(changes: Partial<WebhookSettings>): WebhookSettings {
    return this.webhooks.configure(changes);
  }

  reset(): void {
    this.webhooks.reset();
    this.accounts.clear();
    this.oauth.clear();
    this.faultInjector.reset();
    this.counter.reset();
    this.corruptDownloads = 0;
  }

  /** Every change to an account's files is a webhook notification on its way. */
  private changed<T>(accountId: string, result: T): T {
    this.webhooks.accountChanged(accountId);
    return result;
  }

  private account(accountId: string): Account {
    return this.accounts.get(accountId);
  }

  private tree(accountId: string): FileTree {
    return this.account(accountId).tree;
  }

  /** Ids look like Dropbox's ("id:" and 22 base64url characters) and never repeat, even after reset(). */
  private newId(): string {
    this.ids += 1;
    return `id:emu${this.ids.toString(36).padStart(19, '0')}`;
  }
}

function summary(account: Account): AccountSummary {
  return {
    accountId: account.accountId,
    email: account.email,
    name: account.displayName,
    team: account.team !== undefined,
    rootNamespaceId: account.rootNamespaceId,
    homeNamespaceId: account.homeNamespaceId,
    ...(account.team ? { homePath: account.team.homePath } : {}),
  };
}
