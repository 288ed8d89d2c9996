import { MongoServerError, type Db } from 'mongodb';
import { collections } from './collections';

const DUPLICATE_KEY = 11000;

/**
 * Who may refresh a connection's access token right now: one holder per connection across every
 * worker and API process. Taken by inserting a document whose `_id` is the connection id, so the
 * unique `_id` lets exactly one insert through (an update's compare-and-set would not do on
 * FerretDB, which applies an update as a read and a write). A lease past its time (its holder died
 * mid-refresh) is removed by the next taker.
 */
export function createRefreshLeasesRepository(db: Db) {
  const { refreshLeases } = collections(db);
  return {
    async take(connectionId: string, holder: string, now: Date, until: Date): Promise<boolean> {
      await refreshLeases.deleteOne({ _id: connectionId, until: { $lt: now } });
      try {
        await refreshLeases.insertOne({ _id: connectionId, holder, until });
        return true;
      } catch (err) {
        if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return false;
        throw err;
      }
    },

    async release(connectionId: string, holder: string): Promise<void> {
      await refreshLeases.deleteOne({ _id: connectionId, holder });
    },
  };
}

export type RefreshLeasesRepository = ReturnType<typeof createRefreshLeasesRepository>;
