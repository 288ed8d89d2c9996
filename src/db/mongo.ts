import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';

export const DEFAULT_DB_NAME = 'dropbox_folder_sync';

/**
 * The database named in the URI's path, or the default. Credentials must be percent-encoded in
 * a MongoDB URI (the driver refuses a raw "/" or "@" in them), so the first "/" after them starts
 * the path.
 */
export function databaseNameFromUri(uri: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?[^/?]*(?:\/([^?]*))?/u.exec(uri);
  const name = m?.[1] ? decodeURIComponent(m[1]) : '';
  return name === '' ? DEFAULT_DB_NAME : name;
}

/** The URI with its password replaced, for messages: the URI itself may hold a secret. */
export function redactMongoUri(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/)[^@/]*@/u, '$1***@');
}

export interface ConnectMongoOptions {
  /** Overrides the database named in the URI. */
  dbName?: string;
  clientOptions?: MongoClientOptions;
}

export async function connectMongo(
  uri: string,
  options: ConnectMongoOptions = {},
): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(uri, options.clientOptions);
  try {
    await client.connect();
  } catch (err) {
    await client.close().catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`Could not connect to MongoDB at ${redactMongoUri(uri)}: ${reason}`, { cause: err });
  }
  return { client, db: client.db(options.dbName ?? databaseNameFromUri(uri)) };
}
