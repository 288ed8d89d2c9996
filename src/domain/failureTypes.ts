/** Failure types that activities raise and the workflow branches on. */
export const FailureTypes = {
  credentialsRejected: 'CredentialsRejected',
  cursorReset: 'CursorReset',
  folderMissing: 'FolderMissing',
  mappingGone: 'MappingGone',
  rateLimited: 'DropboxRateLimited',
  badRequest: 'DropboxBadRequest',
  /**
   * A listed page is gone before it was read: replaced in MongoDB by a later listing, or held by
   * another worker than the one reading it. The listing starts again from the saved cursor (in the
   * same cycle on one worker, a few times at most; otherwise in the next cycle).
   */
  listingPageMissing: 'ListingPageMissing',
} as const;
