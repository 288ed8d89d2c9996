import { createHash, randomBytes } from 'node:crypto';
import { expiredAccessToken, invalidAccessToken } from './errors';
import type { FileTree } from './tree';

export const DEFAULT_SCOPES = ['account_info.read', 'files.metadata.read', 'files.content.read'] as const;

export interface AccountInput {
  email: string;
  /** Display name; derived from the email when left out. */
  name?: string;
  /** A team (business) account: a root namespace of its own and a home folder inside it. */
  team?: boolean | { name?: string };
  accountType?: 'basic' | 'pro' | 'business';
  country?: string;
  locale?: string;
  emailVerified?: boolean;
}

export interface TeamInfo {
  id: string;
  name: string;
  memberId: string;
  homePath: string;
}

export interface Account {
  accountId: string;
  email: string;
  givenName: string;
  surname: string;
  displayName: string;
  accountType: 'basic' | 'pro' | 'business';
  country: string;
  locale: string;
  emailVerified: boolean;
  homeNamespaceId: string;
  rootNamespaceId: string;
  team?: TeamInfo;
  tree: FileTree;
  /** Bumped to invalidate every cursor of the account (see forceCursorReset). */
  cursorGeneration: number;
  /** Per folder path_lower: bumped to invalidate the cursors of that folder. */
  folderGenerations: Map<string, number>;
}

/** Dropbox's short-lived access tokens live four hours (`expires_in: 14400`). */
export const DEFAULT_TOKEN_LIFETIME_MS = 4 * 3_600_000;

export interface TokenOptions {
  scopes?: readonly string[];
  /** Four hours unless told otherwise, as Dropbox's short-lived tokens. */
  expiresInMs?: number;
  /** The OAuth grant (refresh token) the token was issued from; revoking one ends the other. */
  grantId?: string;
  /** The app the token was issued to (a token made without one is the App Console's). */
  appKey?: string;
}

interface TokenRecord {
  accountId: string;
  scopes: Set<string>;
  expiresAt: number;
  revoked: boolean;
  grantId?: string;
  appKey?: string;
}

export interface AccountRegistryDeps {
  now(): number;
  newTree(): FileTree;
}

/** Accounts and the tokens that act for them. Tokens are opaque random strings, as Dropbox's are. */
export class AccountRegistry {
  private readonly accounts = new Map<string, Account>();
  private readonly tokens = new Map<string, TokenRecord>();
  private counter = 0;

  constructor(private readonly deps: AccountRegistryDeps) {}

  add(input: AccountInput): Account {
    const n = ++this.counter;
    const displayName = input.name ?? nameFromEmail(input.email);
    const [givenName = displayName, ...rest] = displayName.split(/\s+/u);
    const homeNamespaceId = String(3_000_000 + n * 100);
    const teamName = typeof input.team === 'object' ? input.team.name : undefined;
    const team = input.team
      ? {
          id: `dbtid:${opaque('team', n, 40)}`,
          name: teamName ?? 'Emulated Team',
          memberId: `dbmid:${opaque('member', n, 40)}`,
          homePath: `/${displayName}`,
        }
      : undefined;
    const account: Account = {
      accountId: `dbid:${opaque(input.email, n, 40)}`,
      email: input.email,
      givenName,
      surname: rest.join(' '),
      displayName,
      accountType: input.accountType ?? (team ? 'business' : 'basic'),
      country: input.country ?? 'FI',
      locale: input.locale ?? 'en',
      emailVerified: input.emailVerified ?? true,
      homeNamespaceId,
      rootNamespaceId: team ? String(3_000_000 + n * 100 + 1) : homeNamespaceId,
      tree: this.deps.newTree(),
      cursorGeneration: 0,
      folderGenerations: new Map(),
      ...(team ? { team } : {}),
    };
    this.accounts.set(account.accountId, account);
    return account;
  }

  get(accountId: string): Account {
    const account = this.accounts.get(accountId);
    if (!account) throw new Error(`No emulated account "${accountId}"`);
    return account;
  }

  list(): Account[] {
    return [...this.accounts.values()];
  }

  issueToken(accountId: string, options: TokenOptions = {}): string {
    this.get(accountId);
    const token = `sl.emu-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, {
      accountId,
      scopes: new Set(options.scopes ?? DEFAULT_SCOPES),
      revoked: false,
      expiresAt: this.deps.now() + (options.expiresInMs ?? DEFAULT_TOKEN_LIFETIME_MS),
      ...(options.grantId === undefined ? {} : { grantId: options.grantId }),
      ...(options.appKey === undefined ? {} : { appKey: options.appKey }),
    });
    return token;
  }

  /**
   * Whose calls share a rate limit: Dropbox limits each user and app, so every token of the same
   * account and app waits out the same 429. A token the emulator never issued is limited alone.
   */
  rateLimitKey(token: string): string {
    const record = this.tokens.get(token);
    return record ? `${record.accountId} ${record.appKey ?? 'app-console'}` : `token ${token}`;
  }

  /** The grant a live access token was issued from, if any (for /2/auth/token/revoke). */
  grantOf(token: string): string | undefined {
    return this.tokens.get(token)?.grantId;
  }

  /** Ends every access token issued from a grant. */
  revokeGrantTokens(grantId: string): void {
    for (const record of this.tokens.values()) if (record.grantId === grantId) record.revoked = true;
  }

  expireToken(token: string): void {
    this.token(token).expiresAt = this.deps.now() - 1;
  }

  revokeToken(token: string): void {
    this.token(token).revoked = true;
  }

  /** The account and scopes a bearer token acts with, or Dropbox's 401 for it. */
  authenticate(token: string): { account: Account; scopes: Set<string> } {
    const record = this.tokens.get(token);
    if (!record || record.revoked) throw invalidAccessToken();
    if (this.deps.now() >= record.expiresAt) throw expiredAccessToken();
    return { account: this.get(record.accountId), scopes: record.scopes };
  }

  clear(): void {
    this.accounts.clear();
    this.tokens.clear();
  }

  private token(token: string): TokenRecord {
    const record = this.tokens.get(token);
    if (!record) throw new Error('No such emulated token');
    return record;
  }
}

/** users.FullAccount as users/get_current_account returns it. */
export function accountJson(account: Account): Record<string, unknown> {
  const initials = [account.givenName, account.surname].filter(Boolean).map((s) => s.charAt(0).toUpperCase());
  return {
    account_id: account.accountId,
    name: {
      given_name: account.givenName,
      surname: account.surname,
      familiar_name: account.givenName,
      display_name: account.displayName,
      abbreviated_name: initials.join(''),
    },
    email: account.email,
    email_verified: account.emailVerified,
    disabled: false,
    country: account.country,
    locale: account.locale,
    referral_link: `https://db.tt/${account.accountId.slice(5, 13)}`,
    is_paired: false,
    account_type: { '.tag': account.accountType },
    root_info: rootInfoJson(account),
    ...(account.team
      ? {
          team: {
            id: account.team.id,
            name: account.team.name,
            sharing_policies: {
              shared_folder_member_policy: { '.tag': 'anyone' },
              shared_folder_join_policy: { '.tag': 'from_anyone' },
              shared_link_create_policy: { '.tag': 'default_public' },
            },
            office_addin_policy: { '.tag': 'disabled' },
          },
          team_member_id: account.team.memberId,
        }
      : {}),
  };
}

export function rootInfoJson(account: Account): Record<string, unknown> {
  return account.team
    ? {
        '.tag': 'team',
        root_namespace_id: account.rootNamespaceId,
        home_namespace_id: account.homeNamespaceId,
        home_path: account.team.homePath,
      }
    : {
        '.tag': 'user',
        root_namespace_id: account.rootNamespaceId,
        home_namespace_id: account.homeNamespaceId,
      };
}

function nameFromEmail(email: string): string {
  const local = email.split('@')[0] ?? email;
  return local
    .split(/[._-]+/u)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(' ');
}

/** Stable, Dropbox-looking opaque ids (base64url). */
function opaque(seed: string, n: number, length: number): string {
  return `AA${createHash('sha256').update(`${seed}#${n}`).digest('base64url')}`.slice(0, length);
}
