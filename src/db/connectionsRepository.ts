import type { Db } from 'mongodb';
import type { Connection, SealedToken } from '../domain/types';
import { collections } from './collections';
import { definedOnly } from './definedOnly';
import { NotFoundError } from './errors';
import { newId } from './ids';

/** What Dropbox said about the account when the token was validated. */
export interface ConnectionAccount {
  accountId: string;
  accountEmail: string;
  accountName?: string;
  rootNamespaceId?: string;
}

export interface NewConnection extends ConnectionAccount {
  /** Chosen by the caller when the token is sealed to the connection id before the insert. */
  id?: string;
  projectId: string;
  clientIdentification: string;
  token: SealedToken;
}

export function createConnectionsRepository(db: Db) {
  const { connections } = collections(db);
  return {
    async create(input: NewConnection, now = new Date()): Promise<Connection> {
      const { id, ...fields } = input;
      const connection: Connection = definedOnly({
        _id: id ?? newId(),
        ...fields,
        createdAt: now,
        updatedAt: now,
        tokenUpdatedAt: now,
      });
      await connections.insertOne(connection);
      return connection;
    },

    /** Scoped by project: an id from another project finds nothing. */
    async get(projectId: string, connectionId: string): Promise<Connection | null> {
      return connections.findOne({ _id: connectionId, projectId });
    },

    async getById(id: string): Promise<Connection | null> {
      return connections.findOne({ _id: id });
    },

    async listByProject(projectId: string): Promise<Connection[]> {
      return connections.find({ projectId }).sort({ createdAt: 1, _id: 1 }).toArray();
    },

    /** Account fields left out are removed: a new token may belong to a personal account now. */
    async replaceToken(
      id: string,
      token: SealedToken,
      account: ConnectionAccount,
      now = new Date(),
    ): Promise<Connection> {
      const unset: Record<string, ''> = {};
      if (account.accountName === undefined) unset.accountName = '';
      if (account.rootNamespaceId === undefined) unset.rootNamespaceId = '';
      const updated = await connections.findOneAndUpdate(
        { _id: id },
        {
          $set: { ...definedOnly(account), token, tokenUpdatedAt: now, updatedAt: now },
          ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
        },
        { returnDocument: 'after' },
      );
      if (!updated) throw new NotFoundError('connection', id);
      return updated;
    },

    /** The caller refuses first while live mappings use the connection (409 `connection_in_use`). */
    async delete(id: string): Promise<boolean> {
      const result = await connections.deleteOne({ _id: id });
      return result.deletedCount > 0;
    },
  };
}

export type ConnectionsRepository = ReturnType<typeof createConnectionsRepository>;
