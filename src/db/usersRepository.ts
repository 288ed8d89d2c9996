import type { Db } from 'mongodb';
import type { User } from '../domain/types';
import { generateApiKey, hashApiKey, hashesEqual } from '../security/apiKeys';
import { collections } from './collections';
import { insertUnique } from './errors';
import { newId } from './ids';

/** Emails compare case-insensitively in practice; storing them folded lets the unique index agree. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createUsersRepository(db: Db) {
  const { users } = collections(db);
  return {
    /** The API key is returned here and only here; the database holds its hash. */
    async create(input: { email: string }, now = new Date()): Promise<{ user: User; apiKey: string }> {
      const apiKey = generateApiKey();
      const user: User = {
        _id: newId(),
        email: normalizeEmail(input.email),
        apiKeyHash: hashApiKey(apiKey),
        createdAt: now,
      };
      await insertUnique(users, user, 'user', 'A user with this email already exists');
      return { user, apiKey };
    },

    async findByApiKey(apiKey: string): Promise<User | null> {
      const hash = hashApiKey(apiKey);
      // The lookup is by hash, so its timing says nothing about the key; the constant-time
      // comparison guards against a store that matched loosely.
      const user = await users.findOne({ apiKeyHash: hash });
      return user && hashesEqual(user.apiKeyHash, hash) ? user : null;
    },

    async get(id: string): Promise<User | null> {
      return users.findOne({ _id: id });
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
