/** Failure types that activities raise and the workflow branches on. */
export const FailureTypes = {
  credentialsRejected: 'CredentialsRejected',
  cursorReset: 'CursorReset',
  folderMissing: 'FolderMissing',
  mappingGone: 'MappingGone',
  rateLimited: 'DropboxRateLimited',
  badRequest: 'DropboxBadRequest',
  /** A kept listing page was replaced before it was read: the cycle ends and the page is listed again. */
  listingPageMissing: 'ListingPageMissing',
} as const;
