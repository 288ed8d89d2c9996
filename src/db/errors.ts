import {
  type Collection,
  type Document,
  MongoBulkWriteError,
  MongoServerError,
  type OptionalUnlessRequiredId,
} from 'mongodb';

/** A unique rule refused the write: the same email, the same live folder mapping, and so on. */
export class DuplicateError extends Error {
  override name = 'DuplicateError';
  constructor(
    readonly entity: string,
    message: string,
  ) {
    super(message);
  }
}

/** The record an update was meant for does not exist. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} was not found`);
  }
}

/** An access token was to replace a refresh token that still works (one stored meanwhile). */
export class RefreshTokenHeldError extends Error {
  override name = 'RefreshTokenHeldError';
  constructor(readonly connectionId: string) {
    super(`connection ${connectionId} holds a working refresh token`);
  }
}

const DUPLICATE_KEY = 11000;

/** MongoDB and FerretDB both answer a unique-index violation with code 11000. */
export function isDuplicateKeyError(err: unknown): boolean {
  if (err instanceof MongoBulkWriteError) {
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    return errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY);
  }
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** Inserts `doc`; a unique rule that refuses it is a DuplicateError saying `message`. */
export async function insertUnique<T extends Document>(
  collection: Collection<T>,
  doc: OptionalUnlessRequiredId<T>,
  entity: string,
  message: string,
): Promise<void> {
  try {
    await collection.insertOne(doc);
  } catch (err) {
    if (isDuplicateKeyError(err)) throw new DuplicateError(entity, message);
    throw err;
  }
}
