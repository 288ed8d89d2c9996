/** Failure types that activities raise and the workflow branches on. */
export const FailureTypes = {
  credentialsRejected: 'CredentialsRejected',
  cursorReset: 'CursorReset',
  folderMissing: 'FolderMissing',
  mappingGone: 'MappingGone',
  rateLimited: 'DropboxRateLimited',
  badRequest: 'DropboxBadRequest',
} as const;
