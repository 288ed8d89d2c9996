import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../domain/failureTypes';
import type { ListingPageRecord, ListingPageRef } from '../domain/types';
import type { ActivityDeps } from './deps';

// The cursor has not moved past a missing page, so listing from it again finds the page.
function missing(mappingId: string, ref: ListingPageRef) {
  return ApplicationFailure.nonRetryable(
    `Listing page ${ref.pageId} of mapping ${mappingId} is no longer kept; it will be listed again`,
    FailureTypes.listingPageMissing,
  );
}

/** The page `listFolder` kept, which must still be there: it is recorded only after this step. */
export async function requireKeptPage(deps: ActivityDeps, mappingId: string, ref: ListingPageRef): Promise<ListingPageRecord> {
  const found = await deps.repos.listingPages.find(mappingId, ref);
  if (found.status !== 'kept') throw missing(mappingId, ref);
  return found.page;
}

/**
 * The page to record, or null when its slot in `listing_pages` is empty: an earlier attempt
 * recorded it and dropped the listing's pages (its completion was lost). A slot holding another
 * page means a later listing replaced this one.
 */
export async function pageToRecord(deps: ActivityDeps, mappingId: string, ref: ListingPageRef): Promise<ListingPageRecord | null> {
  const found = await deps.repos.listingPages.find(mappingId, ref);
  if (found.status === 'kept') return found.page;
  if (found.status === 'gone') return null;
  throw missing(mappingId, ref);
}
