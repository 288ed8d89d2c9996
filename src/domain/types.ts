import type { MappingState } from './mappingState';

/** A file seen directly in a mapped folder, as listed by Dropbox (compact: it crosses the history). */
export interface ListedFile {
  id: string;
  name: string;
  pathDisplay: string;
  pathLower: string;
  rev: string;
  size: number;
  contentHash?: string;
  /** ISO 8601, as Dropbox sends it. */
  serverModified: string;
}

/** A folder seen directly in a mapped folder: never synced, reported with the hint to map it. */
export interface ListedFolder {
  id: string;
  name: string;
  pathDisplay: string;
  pathLower: string;
}

/** One page of a folder listing, as the `listFolder` activity returns it. */
export interface ListedPage {
  files: ListedFile[];
  folders: ListedFolder[];
  /** `path_lower` of entries deleted, renamed or moved away since the cursor. */
  deletedPaths: string[];
  cursor: string;
  hasMore: boolean;
}

/**
 * Where `listFolder` kept a page out of the workflow history: one of four slots per mapping, so
 * the next pages can be listed and checked while pages are recorded (runs started before the
 * listing went further ahead use two). `pageId` tells a page from a later one in the same slot.
 */
export interface ListingPageRef {
  slot: 0 | 1 | 2 | 3;
  pageId: string;
  /**
   * When the page was listed (epoch ms, the listing worker's clock): its files are recorded after
   * it, so the copy finds their records among those updated since (see `recordPendingRevs`).
   */
  listedAt: number;
}

/** What the history holds of a kept page: the cursor, and counts for the Web UI. */
export interface ListedPageSummary {
  cursor: string;
  hasMore: boolean;
  /** Absent when the page is empty (an idle cycle writes nothing). */
  page?: ListingPageRef;
  counts: { files: number; folders: number; deletedPaths: number };
}

/** A kept page, as the activities read it from `listing_pages`. */
export interface ListingPageRecord {
  _id: string;
  mappingId: string;
  pageId: string;
  files: ListedFile[];
  folders: ListedFolder[];
  deletedPaths: string[];
  listedAt: Date;
}

export interface Organization {
  _id: string;
  name: string;
  features: { dropbox: boolean };
  createdAt: Date;
  updatedAt: Date;
}

export interface Project {
  _id: string;
  orgId: string;
  name: string;
  createdAt: Date;
}

export interface User {
  _id: string;
  email: string;
  /** sha256 of the API key, hex; the key itself is shown once and never stored. */
  apiKeyHash: string;
  createdAt: Date;
}

export type ProjectRole = 'admin' | 'member';

export interface Membership {
  /** `${projectId}:${userId}` */
  _id: string;
  projectId: string;
  userId: string;
  role: ProjectRole;
  updatedAt: Date;
}

/** A token encrypted with AES-256-GCM; `keyId` tells which key sealed it. */
export interface SealedToken {
  v: 1;
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface Connection {
  _id: string;
  projectId: string;
  /** The Dropbox account's email, as the admin typed it. */
  clientIdentification: string;
  accountId: string;
  accountEmail: string;
  accountName?: string;
  /** Set for team accounts: the root namespace sent as `Dropbox-API-Path-Root`. */
  rootNamespaceId?: string;
  /** The access token in use (for `refresh_token` connections, the latest one refreshed). */
  token: SealedToken;
  /** Absent on connections made before refresh tokens: `access_token`. */
  credentialKind?: CredentialKind;
  refreshToken?: SealedToken;
  /** The Dropbox app the refresh token was issued to. */
  appKey?: string;
  /** Only for an admin's own app whose refresh token needs its secret (not issued to PKCE). */
  appSecret?: SealedToken;
  accessTokenExpiresAt?: Date;
  lastRefreshAt?: Date;
  /** Dropbox refused the refresh token or its app: every mapping waits for new credentials. */
  refreshRefused?: { at: Date; problem: 'invalid_grant' | 'invalid_client' };
  /**
   * Where the webhook receiver's last look at the account's changes ended (a recursive cursor on
   * the root): a notification then syncs only the mappings whose folders changed since.
   */
  changesCursor?: string;
  /**
   * Dropbox answered 429 to a call for this Dropbox account (its limits are per user and app, and a
   * pasted token's app is not known, so every connection of the account keeps it): no call is made
   * for the connection before then, by any mapping, copy, page or token refresh, since a refused
   * call counts as a call.
   */
  rateLimitedUntil?: Date;
  /**
   * A deletion is under way until then: a mapping created meanwhile is taken back. Bounded, so a
   * deletion whose process died does not block the connection for ever.
   */
  deletingUntil?: Date;
  createdAt: Date;
  updatedAt: Date;
  tokenUpdatedAt: Date;
}

/** A pending "Connect with Dropbox" round, stored under the hash of its `state`. */
export interface OAuthState {
  _id: string;
  projectId: string;
  userId: string;
  clientIdentification: string;
  /** The PKCE verifier, sealed: only the callback sends it, to Dropbox. */
  codeVerifier: SealedToken;
  /** Hash of the key the starting browser holds in a cookie: only that browser finishes the round. */
  browserKeyHash: string;
  expiresAt: Date;
  createdAt: Date;
}

export type CredentialKind = 'access_token' | 'refresh_token';

/** One process refreshing a connection's access token; the unique `_id` lets only one hold it. */
export interface RefreshLease {
  /** The connection id. */
  _id: string;
  holder: string;
  until: Date;
}

export interface Mapping {
  _id: string;
  projectId: string;
  connectionId: string;
  dropboxPath: string;
  dropboxPathLower: string;
  targetFolder: string;
  workflowId: string;
  /** Unique while the mapping is live; rewritten on unmap so the folder can be mapped again. */
  liveKey: string;
  state: MappingState;
  lastError?: string | null;
  lastSyncAt?: Date | null;
  /**
   * The token may not download (no `files.content.read`): contents not yet stored count as failed
   * with reason `missing_scope` until a copy finds the scope. Kept here rather than on each file:
   * one write instead of one per file (on FerretDB each is a scan of every file of every mapping).
   */
  contentScopeMissing?: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface FileRecord {
  /** `${mappingId}:${dropboxId}`: one record per file and mapping, whatever retries happen. */
  _id: string;
  mappingId: string;
  projectId: string;
  dropboxId: string;
  name: string;
  path: string;
  pathLower: string;
  size: number;
  rev: string;
  /**
   * The rev the file was first recorded with; never rewritten. Only a file's current rev is ever
   * copied, so at this rev no earlier rev has stored bytes: the copy and the file's route then
   * need not look for them (on FerretDB, a look by any field but `_id` reads the whole collection).
   */
  firstRev: string;
  contentHash: string | null;
  serverModified: Date;
  syncedAt: Date;
  updatedAt: Date;
  /** The full listing that last saw this file; a full relisting sweeps the ones it did not see. */
  listingGeneration: number;
  deletedAt: Date | null;
}

/**
 * The copy of one rev of a file's bytes: `${fileRecordId}@${rev}`. Only the contents copy writes
 * it, in two collections: `pending_contents` holds the revs still to copy (it inserts one for each
 * rev it finds in a file record the listing wrote, the listing writing one document per new
 * file), and `contents` the revs that left the copy's work, each inserted once with its outcome
 * (stored, failed, superseded); the first insert of a rev's outcome wins. A rev that has its
 * outcome is named in `ended_contents` until the end of the copy's batch deletes its pending
 * record: one delete for a batch of files. A file's copy thus only inserts documents, never
 * updating or deleting one of a collection that grows with the files: on FerretDB (SQLite) each
 * update and delete reads the whole collection (see BENCHMARKS.md, "File contents"). A listing
 * and a copy never write the same document.
 */
export interface ContentRecord {
  _id: string;
  fileRecordId: string;
  mappingId: string;
  rev: string;
  state: ContentState | 'superseded';
  /** Dropbox's modification time of this rev: of two revs, the later one is the file's. */
  serverModified: Date;
  /*
   * The fields below are absent until the copy sets them: a first sync's copy inserts one record
   * per new file, and FerretDB stores a type beside every field, so a record of 7 fields rather than 13
   * is about a third cheaper to insert and to read (git log -p -- BENCHMARKS.md).
   */
  error?: { reason: ContentFailureReason; message: string } | null;
  /** Downloads of this rev that did not match its content hash. */
  attempts?: number;
  /** Set once stored: the GridFS file (bucket `file_contents`) holding this rev's verified bytes. */
  storedFileId?: string | null;
  storedHash?: string | null;
  storedSize?: number | null;
  /** When a newer rev's bytes replaced this rev's: its own are kept a while for downloads under way. */
  supersededAt?: Date | null;
  /** When a rev refused as too large became pending again (MAX_FILE_BYTES was raised). */
  reopenedAt?: Date;
}

export type ContentState = 'pending' | 'stored' | 'failed';

/** A rev whose outcome is recorded and whose pending record goes at the end of its batch. */
export interface EndedContent {
  _id: string;
  mappingId: string;
  /** The ended pending record's, if it was reopened: a record reopened since is not the one ended. */
  reopenedAt?: Date;
}

/**
 * A GridFS upload of a rev's bytes under way, or left by a worker that died (`content_uploads`):
 * deleted, with its chunks, once the rev leaves the copy's work, unless it became the stored bytes.
 */
export interface ContentUpload {
  /** The GridFS file id of the upload. */
  _id: string;
  contentId: string;
  mappingId: string;
}
export type ContentFailureReason = 'hash_mismatch' | 'missing_scope' | 'too_large' | 'not_downloadable' | 'not_found' | 'restricted';

export type RejectionKind = 'special_characters' | 'subfolder' | 'too_large';

export interface RejectionRecord {
  /** `${mappingId}:${dropboxId}` */
  _id: string;
  mappingId: string;
  projectId: string;
  dropboxId: string;
  kind: RejectionKind;
  name: string;
  path: string;
  pathLower: string;
  /** For `special_characters`: the offending characters. */
  characters: string[];
  reason: string;
  /** For `subfolder`: what the admin can do about it. */
  hint?: string;
  /**
   * The listing that last saw a refused name or a subfolder (their sweep after a full listing
   * removes the ones it did not see). Absent on `too_large`, which the copy records.
   */
  listingGeneration?: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
}
