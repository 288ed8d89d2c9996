/** Failure types that activities raise and the workflow branches on. */
export const FailureTypes = {
  credentialsRejected: 'CredentialsRejected',
  cursorReset: 'CursorReset',
  folderMissing: 'FolderMissing',
  mappingGone: 'MappingGone',
  rateLimited: 'DropboxRateLimited',
  badRequest: 'DropboxBadRequest',
  /**
   * A listed page is gone before it was read: replaced in MongoDB by a later listing. The next
   * cycle lists again from the saved cursor.
   */
  listingPageMissing: 'ListingPageMissing',
} as const;
