import { createHash } from 'node:crypto';
import type { Db } from 'mongodb';
import type { OAuthState } from '../domain/types';
import { collections } from './collections';

/** Only the hash of a state is stored: a database reader cannot finish someone's round. */
export function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

/**
 * The pending "Connect with Dropbox" rounds: single-use states bound to a project and an admin,
 * ten minutes to live. FerretDB has no TTL index, so each new round clears the expired ones.
 */
export function createOAuthStatesRepository(db: Db) {
  const { oauthStates } = collections(db);
  return {
    async create(state: string, round: Omit<OAuthState, '_id' | 'createdAt'>, now = new Date()): Promise<void> {
      await oauthStates.deleteMany({ expiresAt: { $lt: now } });
      await oauthStates.insertOne({ _id: hashState(state), ...round, createdAt: now });
    },

    /**
     * The round, once, for the browser that started it (`browserKey`, its cookie): it is deleted
     * as it is read. Null when unknown, used, expired or asked for by another browser, which
     * leaves the round to its own.
     */
    async take(state: string, browserKey: string, now = new Date()): Promise<OAuthState | null> {
      const round = await oauthStates.findOneAndDelete({ _id: hashState(state), browserKeyHash: hashState(browserKey) });
      return round && round.expiresAt > now ? round : null;
    },
  };
}

export type OAuthStatesRepository = ReturnType<typeof createOAuthStatesRepository>;
