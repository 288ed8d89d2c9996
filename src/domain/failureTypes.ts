/** Failure types that activities raise and the workflow branches on. */
export const FailureTypes = {
  credentialsRejected: 'CredentialsRejected',
  cursorReset: 'CursorReset',
  folderMissing: 'FolderMissing',
  mappingGone: 'MappingGone',
  /** The mapping's organization no longer has the Dropbox feature: nothing syncs until it has. */
  featureDisabled: 'FeatureDisabled',
  rateLimited: 'DropboxRateLimited',
  badRequest: 'DropboxBadRequest',
  /**
   * A listed page is gone before it was read: replaced in MongoDB by a later listing. The next
   * cycle lists again from the saved cursor.
   */
  listingPageMissing: 'ListingPageMissing',
} as const;
