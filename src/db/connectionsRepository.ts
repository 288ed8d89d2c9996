import type { Db, Filter } from 'mongodb';
import type { Connection, SealedToken } from '../domain/types';
import { collections } from './collections';
import { definedOnly } from './definedOnly';
import { NotFoundError, RefreshTokenHeldError, insertUnique } from './errors';
import { newId } from './ids';

/** What Dropbox said about the account when the token was validated. */
export interface ConnectionAccount {
  accountId: string;
  accountEmail: string;
  accountName?: string;
  rootNamespaceId?: string;
}

/** What a connection made with a refresh token holds besides its current access token. */
export interface RefreshCredentials {
  refreshToken: SealedToken;
  appKey: string;
  appSecret?: SealedToken;
  accessTokenExpiresAt: Date;
}

export interface NewConnection extends ConnectionAccount {
  /** Chosen by the caller when the token is sealed to the connection id before the insert. */
  id?: string;
  projectId: string;
  clientIdentification: string;
  token: SealedToken;
  refresh?: RefreshCredentials;
}

/** The credential fields of a connection: a refresh token's, or none beside the access token. */
function credentialFields(refresh: RefreshCredentials | undefined, now: Date) {
  if (!refresh) return { set: { credentialKind: 'access_token' as const }, unset: REFRESH_FIELDS };
  return {
    set: definedOnly({ credentialKind: 'refresh_token' as const, ...refresh, lastRefreshAt: now }),
    unset: refresh.appSecret ? ['refreshRefused'] : ['refreshRefused', 'appSecret'],
  };
}

const REFRESH_FIELDS = [
  'refreshToken',
  'appKey',
  'appSecret',
  'accessTokenExpiresAt',
  'lastRefreshAt',
  'refreshRefused',
];

export function createConnectionsRepository(db: Db) {
  const { connections } = collections(db);
  return {
    async create(input: NewConnection, now = new Date()): Promise<Connection> {
      const { id, refresh, ...fields } = input;
      const connection: Connection = definedOnly({
        _id: id ?? newId(),
        ...fields,
        ...credentialFields(refresh, now).set,
        createdAt: now,
        updatedAt: now,
        tokenUpdatedAt: now,
      });
      await insertUnique(
        connections,
        connection,
        'connection',
        'This Dropbox account is already connected to this project',
      );
      return connection;
    },

    /** The project's connection to this Dropbox account, if it has one. */
    async findByAccount(projectId: string, accountId: string): Promise<Connection | null> {
      return connections.findOne({ projectId, accountId });
    },

    /** Every project's connection to this Dropbox account. */
    async listByAccount(accountId: string): Promise<Connection[]> {
      return connections.find({ accountId }).toArray();
    },

    /** Scoped by project: an id from another project finds nothing. */
    async get(projectId: string, connectionId: string): Promise<Connection | null> {
      return connections.findOne({ _id: connectionId, projectId });
    },

    /**
     * The sealed secret of an admin's own app, with the connection it is sealed to: the one that
     * saved it last and whose app Dropbox did not refuse (after a rotation of the secret, the new one).
     */
    async findAppSecret(appKey: string): Promise<{ connectionId: string; appSecret: NonNullable<Connection['appSecret']> } | undefined> {
      const found = await connections.findOne(
        { appKey, appSecret: { $exists: true }, 'refreshRefused.problem': { $ne: 'invalid_client' } },
        { projection: { appSecret: 1 }, sort: { tokenUpdatedAt: -1 } },
      );
      return found?.appSecret ? { connectionId: found._id, appSecret: found.appSecret } : undefined;
    },

    async getById(id: string): Promise<Connection | null> {
      return connections.findOne({ _id: id });
    },

    /**
     * Dropbox asked to wait until `until`: it limits each user and app, and a pasted token's app is
     * unknown, so every connection of the account waits (a longer wait already set stands).
     */
    async setRateLimitedUntil(accountId: string, until: Date): Promise<void> {
      await connections.updateMany({ accountId }, { $max: { rateLimitedUntil: until } });
    },

    /** The root namespace Dropbox now names for the account; the account's changes start afresh. */
    async setRootNamespace(id: string, rootNamespaceId: string | undefined): Promise<void> {
      await connections.updateOne(
        { _id: id },
        rootNamespaceId === undefined
          ? { $unset: { rootNamespaceId: '', changesCursor: '' } }
          : { $set: { rootNamespaceId }, $unset: { changesCursor: '' } },
      );
    },

    /**
     * Where the next look at the account's changes starts. With `from`, only if the look that
     * found it started there (undefined: from none): a cursor dropped meanwhile (the account's
     * root changed, or another process reset it) stays dropped.
     */
    async setChangesCursor(id: string, cursor: string | null, from?: { cursor: string | undefined }): Promise<void> {
      const started = from === undefined ? {} : { changesCursor: from.cursor === undefined ? { $exists: false } : from.cursor };
      await connections.updateOne(
        { _id: id, ...started },
        cursor === null ? { $unset: { changesCursor: '' } } : { $set: { changesCursor: cursor } },
      );
    },

    async listByProject(projectId: string): Promise<Connection[]> {
      return connections.find({ projectId }).sort({ createdAt: 1, _id: 1 }).toArray();
    },

    /**
     * New credentials: an access token, with a refresh token or without. Account fields left out
     * are removed: a new token may belong to a personal account now.
     */
    async replaceToken(
      id: string,
      token: SealedToken,
      account: ConnectionAccount,
      now = new Date(),
      refresh?: RefreshCredentials,
    ): Promise<Connection> {
      const credentials = credentialFields(refresh, now);
      const unset: Record<string, ''> = Object.fromEntries(credentials.unset.map((f) => [f, '']));
      if (account.accountName === undefined) unset.accountName = '';
      if (account.rootNamespaceId === undefined) unset.rootNamespaceId = '';
      // The new token may be another account's, or see another root: its changes start afresh.
      unset.changesCursor = '';
      // An access token never takes the place of a working refresh token, even one stored since
      // the caller read the connection (an OAuth round finishing meanwhile).
      const refreshHeld: Filter<Connection> = { credentialKind: 'refresh_token', refreshRefused: { $exists: false } };
      const updated = await connections.findOneAndUpdate(
        refresh ? { _id: id } : { _id: id, $nor: [refreshHeld] },
        {
          $set: { ...definedOnly(account), ...credentials.set, token, tokenUpdatedAt: now, updatedAt: now },
          ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
        },
        { returnDocument: 'after' },
      );
      if (updated) return updated;
      if (!refresh && (await connections.countDocuments({ _id: id }, { limit: 1 })) > 0) throw new RefreshTokenHeldError(id);
      throw new NotFoundError('connection', id);
    },

    /**
     * A refreshed access token, kept only if the connection still holds the refresh token it came
     * from (an admin may have replaced the credentials meanwhile). Sealed ciphertexts never repeat.
     */
    async storeRefreshedToken(
      id: string,
      from: SealedToken,
      update: { token: SealedToken; accessTokenExpiresAt: Date },
      now = new Date(),
    ): Promise<boolean> {
      const result = await connections.updateOne(
        { _id: id, 'refreshToken.ciphertext': from.ciphertext },
        { $set: { ...update, lastRefreshAt: now, tokenUpdatedAt: now, updatedAt: now } },
      );
      return result.matchedCount > 0;
    },

    /** Dropbox refused the refresh token: every mapping of the connection waits for new credentials. */
    async markRefreshRefused(
      id: string,
      from: SealedToken,
      problem: 'invalid_grant' | 'invalid_client',
      now = new Date(),
    ): Promise<void> {
      await connections.updateOne(
        { _id: id, 'refreshToken.ciphertext': from.ciphertext },
        { $set: { refreshRefused: { at: now, problem }, updatedAt: now } },
      );
    },

    /**
     * A deletion of the connection is under way until `until` (see `Connection.deletingUntil`):
     * 'busy' when another one is, so that only the request that marked it clears the mark.
     */
    async markDeleting(id: string, until: Date, now = new Date()): Promise<'marked' | 'busy' | 'gone'> {
      const result = await connections.updateOne(
        { _id: id, $or: [{ deletingUntil: { $exists: false } }, { deletingUntil: { $lte: now } }] },
        { $set: { deletingUntil: until } },
      );
      if (result.matchedCount > 0) return 'marked';
      return (await connections.countDocuments({ _id: id }, { limit: 1 })) > 0 ? 'busy' : 'gone';
    },

    /** The deletion marked until `until` did not happen; a later deletion's mark stays. */
    async clearDeleting(id: string, until: Date): Promise<void> {
      await connections.updateOne({ _id: id, deletingUntil: until }, { $unset: { deletingUntil: '' } });
    },

    async delete(id: string): Promise<boolean> {
      const result = await connections.deleteOne({ _id: id });
      return result.deletedCount > 0;
    },
  };
}

export type ConnectionsRepository = ReturnType<typeof createConnectionsRepository>;
