import type { FileContentsRepository } from '../db/fileContentsRepository';
import type { KeptPageLookup } from '../db/listingPagesRepository';
import type { DropboxClient } from '../dropbox/client';
import type { PathPolicy } from '../domain/pathPolicy';
import type {
  Connection,
  FileRecord,
  ListedFile,
  ListedFolder,
  ListedPage,
  ListingPageRef,
  Mapping,
  Organization,
  Project,
} from '../domain/types';
import type { CredentialsProvider } from '../dropbox/credentials/credentialsProvider';
import type { MappingState } from '../domain/mappingState';
import type { Logger } from '../log';

/** The parts of the repositories the activities use; `createActivities` takes real ones. */
export interface ActivityRepositories {
  mappings: {
    getById(id: string): Promise<Mapping | null>;
    recordState(
      id: string,
      update: { state: MappingState; lastError?: string | null; lastSyncAt?: Date | null },
    ): Promise<unknown>;
    setContentScopeMissing(id: string, missing: boolean): Promise<void>;
  };
  connections: { getById(id: string): Promise<Connection | null> };
  projects: { get(id: string): Promise<Project | null> };
  orgs: { get(id: string): Promise<Organization | null> };
  files: {
    upsertListedFiles(
      mapping: { id: string; projectId: string },
      files: ListedFile[],
      listingGeneration: number,
      now: Date,
    ): Promise<{ added: number; updated: number; unchanged: number }>;
    markDeletedByPaths(mappingId: string, pathLowers: string[], now: Date): Promise<number>;
    markReplacedAtPaths(mappingId: string, listed: { id: string; pathLower: string }[], now: Date): Promise<number>;
    sweepUnseen(mappingId: string, listingGeneration: number, now: Date): Promise<number>;
    liveRecords(recordIds: string[]): Promise<FileRecord[]>;
  };
  rejections: {
    recordSpecialCharacters(
      mapping: { id: string; projectId: string },
      entries: { id: string; name: string; pathDisplay: string; pathLower: string; characters: string[] }[],
      listingGeneration: number,
      now: Date,
    ): Promise<number>;
    recordSkippedFolders(
      mapping: { id: string; projectId: string },
      folders: ListedFolder[],
      listingGeneration: number,
      now: Date,
    ): Promise<unknown>;
    sweepUnseen(mappingId: string, listingGeneration: number): Promise<number>;
    tooLargeIds(mappingId: string): Promise<string[]>;
    /** `seenBefore`: only rejections last seen before that time. */
    removeByPaths(mappingId: string, pathLowers: string[], seenBefore?: Date): Promise<unknown>;
    removeByIds(mappingId: string, dropboxIds: string[], seenBefore?: Date): Promise<unknown>;
    removeReplacedAtPaths(mappingId: string, entries: { id: string; pathLower: string }[], seenBefore: Date): Promise<unknown>;
    recordTooLarge(
      file: { mappingId: string; projectId: string; dropboxId: string; name: string; path: string; pathLower: string; size: number },
      maxBytes: number,
      now: Date,
    ): Promise<number>;
  };
  /** File contents in GridFS and their content records. */
  contents: Omit<FileContentsRepository, 'getFile' | 'contentOf' | 'openDownload' | 'uploads'>;
  listingPages: {
    keep(
      mappingId: string,
      slot: ListingPageRef['slot'],
      page: Pick<ListedPage, 'files' | 'folders' | 'deletedPaths'>,
      now: Date,
    ): Promise<ListingPageRef>;
    find(mappingId: string, ref: ListingPageRef): Promise<KeptPageLookup>;
    dropAll(mappingId: string, listedUpTo?: Date): Promise<void>;
  };
}

export interface ActivityDeps {
  repos: ActivityRepositories;
  dropbox: DropboxClient;
  /** Opens (and for refresh-token connections, keeps fresh) a connection's access token. */
  credentials: CredentialsProvider;
  pathPolicy: PathPolicy;
  pageLimit: number;
  /** Downloads a worker runs at once, over all its mappings (CONTENT_CONCURRENCY, default 4). */
  contentConcurrency?: number;
  /** Larger files are rejections (`too_large`), their bytes not copied (MAX_FILE_BYTES). */
  maxFileBytes?: number;
  log: Logger;
  now?: () => Date;
}
