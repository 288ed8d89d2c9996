/**
 * What the API shows of each stored document. Written field by field, never by spreading a
 * document, so a field added to the store (a sealed token, a hash) cannot leak out by accident.
 */
import { CONTENT_SCOPE, shownContent } from '../domain/contentScope';
import type { FileContent } from '../db/fileContentsRepository';
import type {
  Connection,
  FileRecord,
  Mapping,
  Membership,
  Organization,
  Project,
  RejectionRecord,
} from '../domain/types';
import type { FolderSyncStatus } from '../workflows/definitions';

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** The root is stored as "" and shown as "/". */
export const shownPath = (path: string): string => (path === '' ? '/' : path);

export function orgView(org: Organization) {
  return {
    id: org._id,
    name: org.name,
    features: { dropbox: org.features.dropbox },
    createdAt: iso(org.createdAt),
    updatedAt: iso(org.updatedAt),
  };
}

export function projectView(project: Project) {
  return { id: project._id, orgId: project.orgId, name: project.name, createdAt: iso(project.createdAt) };
}

export function membershipView(m: Membership) {
  return { projectId: m.projectId, userId: m.userId, role: m.role, updatedAt: iso(m.updatedAt) };
}

export function connectionView(c: Connection) {
  return {
    id: c._id,
    projectId: c.projectId,
    clientIdentification: c.clientIdentification,
    account: { id: c.accountId, email: c.accountEmail, name: c.accountName ?? null },
    team: c.rootNamespaceId !== undefined,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    tokenUpdatedAt: iso(c.tokenUpdatedAt),
    credentialKind: c.credentialKind ?? 'access_token',
    accessTokenExpiresAt: iso(c.accessTokenExpiresAt),
    lastRefreshAt: iso(c.lastRefreshAt),
  };
}

export interface MappingCounts {
  files: number;
  rejections: number;
  skippedFolders: number;
  /** Live files by whether their bytes are stored. */
  contents: { pending: number; stored: number; failed: number };
  /** The token may not download (Mapping.contentScopeMissing): contents not stored count as failed. */
  missingContentScope?: boolean;
}

export const CONTENT_SCOPE_PROBLEM = {
  code: 'missing_content_scope',
  requiredScope: CONTENT_SCOPE,
  message:
    `Files are recorded but their contents cannot be copied: add the "${CONTENT_SCOPE}" scope to the Dropbox app, generate a new token and replace the connection's token`,
} as const;

/**
 * A mapping as MongoDB holds it, overlaid with what its workflow says when it answered (`live`).
 * An unmapped mapping is unmapped whatever a lagging query says.
 */
export function mappingView(
  m: Mapping,
  extra: { counts?: MappingCounts; status?: FolderSyncStatus | null } = {},
) {
  const live = extra.status ?? null;
  const state = m.state === 'unmapped' || !live ? m.state : live.state;
  return {
    id: m._id,
    projectId: m.projectId,
    connectionId: m.connectionId,
    dropboxPath: shownPath(m.dropboxPath),
    targetFolder: m.targetFolder,
    workflowId: m.workflowId,
    state,
    lastSyncAt: live?.lastSyncAt ?? iso(m.lastSyncAt),
    nextSyncAt: state === 'active' ? (live?.nextSyncAt ?? null) : null,
    lastError: live ? live.lastError : (m.lastError ?? null),
    ...(extra.counts ? countsFields(extra.counts) : {}),
    live: live !== null,
    createdAt: iso(m.createdAt),
    updatedAt: iso(m.updatedAt),
  };
}

function countsFields({ missingContentScope, ...counts }: MappingCounts) {
  return { counts, contentProblem: missingContentScope ? CONTENT_SCOPE_PROBLEM : null };
}

export function fileView(f: FileRecord, { current, stored }: FileContent, contentScopeMissing = false) {
  const content = shownContent(current, contentScopeMissing);
  return {
    id: f.dropboxId,
    name: f.name,
    path: f.path,
    size: f.size,
    dropboxId: f.dropboxId,
    rev: f.rev,
    contentHash: f.contentHash,
    contentState: content.contentState,
    ...(content.contentState === 'failed' ? { contentError: content.contentError } : {}),
    storedRev: stored?.rev ?? null,
    serverModified: iso(f.serverModified),
    syncedAt: iso(f.syncedAt),
    deletedAt: iso(f.deletedAt),
  };
}

export function rejectionView(r: RejectionRecord) {
  return {
    kind: r.kind,
    name: r.name,
    path: r.path,
    reason: r.reason,
    characters: r.characters,
    ...(r.hint ? { hint: r.hint } : {}),
    firstSeenAt: iso(r.firstSeenAt),
    lastSeenAt: iso(r.lastSeenAt),
  };
}
