import { isCancellation } from '@temporalio/workflow';
import { contents } from './activityProxies';

/**
 * After a cycle's listing is recorded, the bytes of its new and changed files are copied
 * (`copyFileContents`, a regular activity): the listing is never held up by downloads, and the
 * copy of a large first sync follows its metadata. Returns whether contents are still pending:
 * the copy ran out of its time budget (the next cycle starts at once and copies on), failed (the
 * next cycle tries again), or waits for a token with the content scope.
 */
export async function copyContents(mappingId: string): Promise<{ pending: boolean; more: boolean }> {
  try {
    const result = await contents.copyFileContents({ mappingId });
    return { pending: result.pending > 0 || result.missingScope, more: result.pending > 0 };
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { pending: true, more: false };
  }
}
