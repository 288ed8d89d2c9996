import type { ContentFailureReason, ContentRecord, ContentState } from './types';

/** The Dropbox scope a token needs to download files. */
export const CONTENT_SCOPE = 'files.content.read';
export const MISSING_SCOPE_MESSAGE = `The Dropbox token may not download files: add the "${CONTENT_SCOPE}" scope to the Dropbox app and connect again`;

export interface ShownContent {
  contentState: ContentState;
  contentError: { reason: ContentFailureReason; message: string } | null;
}

/** A mapping's content counts as admins see them: what waits for the scope counts as failed (see shownContent). */
export function shownContentCounts(
  counts: { pending: number; stored: number; failed: number },
  contentScopeMissing: boolean,
): { pending: number; stored: number; failed: number } {
  if (!contentScopeMissing) return counts;
  return { pending: 0, stored: counts.stored, failed: counts.failed + counts.pending };
}

/**
 * The content state of a file's current rev as admins see it, from that rev's content record
 * (none yet, before the copy that follows the listing made it: pending). While the mapping's
 * token lacks the scope, contents not stored yet are failed with `missing_scope` (the contract's
 * shape) though their records stay pending, so a token with the scope copies them as they are.
 */
export function shownContent(
  current: Pick<ContentRecord, 'state' | 'error'> | null,
  contentScopeMissing: boolean,
): ShownContent {
  const state: ContentState = current?.state === 'stored' || current?.state === 'failed' ? current.state : 'pending';
  if (state === 'pending' && contentScopeMissing) {
    return {
      contentState: 'failed',
      contentError: { reason: 'missing_scope', message: MISSING_SCOPE_MESSAGE },
    };
  }
  return { contentState: state, contentError: state === 'failed' ? (current?.error ?? null) : null };
}
