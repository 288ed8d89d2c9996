import type { Binary, Collection, Db, IndexDescription } from 'mongodb';
import type {
  Connection,
  ContentRecord,
  ContentUpload,
  EndedContent,
  FileRecord,
  Mapping,
  Membership,
  OAuthState,
  Organization,
  Project,
  RefreshLease,
  RejectionRecord,
  User,
} from '../domain/types';

/** A kept listing page until `persistNewFiles` has recorded it: its entries as deflated JSON. */
export interface StoredListingPage {
  _id: string;
  mappingId: string;
  pageId: string;
  entries: Binary;
  listedAt: Date;
}

export interface Collections {
  orgs: Collection<Organization>;
  projects: Collection<Project>;
  users: Collection<User>;
  memberships: Collection<Membership>;
  connections: Collection<Connection>;
  mappings: Collection<Mapping>;
  files: Collection<FileRecord>;
  contents: Collection<ContentRecord>;
  pendingContents: Collection<ContentRecord>;
  endedContents: Collection<EndedContent>;
  contentUploads: Collection<ContentUpload>;
  rejections: Collection<RejectionRecord>;
  listingPages: Collection<StoredListingPage>;
  refreshLeases: Collection<RefreshLease>;
  oauthStates: Collection<OAuthState>;
}

export function collections(db: Db): Collections {
  return {
    orgs: db.collection<Organization>('orgs'),
    projects: db.collection<Project>('projects'),
    users: db.collection<User>('users'),
    memberships: db.collection<Membership>('memberships'),
    connections: db.collection<Connection>('connections'),
    mappings: db.collection<Mapping>('mappings'),
    files: db.collection<FileRecord>('files'),
    contents: db.collection<ContentRecord>('contents'),
    pendingContents: db.collection<ContentRecord>('pending_contents'),
    endedContents: db.collection<EndedContent>('ended_contents'),
    contentUploads: db.collection<ContentUpload>('content_uploads'),
    rejections: db.collection<RejectionRecord>('rejections'),
    listingPages: db.collection<StoredListingPage>('listing_pages'),
    refreshLeases: db.collection<RefreshLease>('refresh_leases'),
    oauthStates: db.collection<OAuthState>('oauth_states'),
  };
}

/**
 * Every index, named so that a second run finds it already there. Plain and unique indexes only:
 * FerretDB (SQLite) has no partial or TTL indexes.
 */
export const INDEXES: Record<keyof Collections, IndexDescription[]> = {
  orgs: [],
  projects: [{ key: { orgId: 1 }, name: 'orgId' }],
  users: [
    { key: { email: 1 }, name: 'email_unique', unique: true },
    { key: { apiKeyHash: 1 }, name: 'apiKeyHash_unique', unique: true },
  ],
  memberships: [
    { key: { projectId: 1 }, name: 'projectId' },
    { key: { userId: 1 }, name: 'userId' },
  ],
  connections: [
    // One connection per Dropbox account and project: a second one would let the same folder be
    // mapped twice (a mapping is unique per connection and folder).
    { key: { projectId: 1, accountId: 1 }, name: 'projectId_accountId_unique', unique: true },
    // A webhook notification names Dropbox accounts; their mappings are found through this.
    { key: { accountId: 1 }, name: 'accountId' },
    // A notification to /v1/dropbox/webhook/:appKey is verified with that app's secret.
    { key: { appKey: 1 }, name: 'appKey' },
  ],
  mappings: [
    // Two concurrent creates of the same live folder: this index lets exactly one through.
    { key: { liveKey: 1 }, name: 'liveKey_unique', unique: true },
    { key: { projectId: 1 }, name: 'projectId' },
    { key: { connectionId: 1 }, name: 'connectionId' },
  ],
  files: [
    { key: { mappingId: 1, pathLower: 1 }, name: 'mappingId_pathLower' },
    { key: { mappingId: 1, _id: 1 }, name: 'mappingId_id' },
    { key: { mappingId: 1, listingGeneration: 1 }, name: 'mappingId_listingGeneration' },
    // The records a copy gives content records to: those updated since the pages it follows were listed.
    { key: { mappingId: 1, updatedAt: 1 }, name: 'mappingId_updatedAt' },
  ],
  contents: [
    // Counts by state; the revs a copy refused as too large; replaced bytes to drop.
    { key: { mappingId: 1, state: 1, _id: 1 }, name: 'mappingId_state_id' },
    // The revs of a page of files, for the file list and the content route.
    { key: { fileRecordId: 1 }, name: 'fileRecordId' },
  ],
  pendingContents: [
    // What a copy has to do, in order; and the count.
    { key: { mappingId: 1, _id: 1 }, name: 'mappingId_id' },
    { key: { fileRecordId: 1 }, name: 'fileRecordId' },
  ],
  // A batch's worth at most per mapping copying.
  endedContents: [{ key: { mappingId: 1 }, name: 'mappingId' }],
  contentUploads: [
    { key: { contentId: 1 }, name: 'contentId' },
    { key: { mappingId: 1 }, name: 'mappingId' },
  ],
  rejections: [
    { key: { mappingId: 1, pathLower: 1 }, name: 'mappingId_pathLower' },
    { key: { mappingId: 1, kind: 1, _id: 1 }, name: 'mappingId_kind_id' },
  ],
  // Read and written by _id only; at most two documents per mapping, and usually none.
  listingPages: [],
  // By _id only: at most one per connection, for the seconds of a refresh.
  refreshLeases: [],
  // By _id (the state's hash); expired rounds are cleared by expiresAt when a round starts.
  oauthStates: [{ key: { expiresAt: 1 }, name: 'expiresAt' }],
};

/** Idempotent: safe at every start of the API and the worker. */
export async function ensureIndexes(db: Db): Promise<void> {
  const all = collections(db);
  for (const [name, indexes] of Object.entries(INDEXES) as [keyof Collections, IndexDescription[]][]) {
    // One at a time: FerretDB 1.24 drops the connection when one createIndexes command names two
    // or more indexes that already exist.
    for (const { key, ...options } of indexes) {
      await all[name].createIndex(key, options);
    }
  }
}
