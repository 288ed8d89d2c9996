/** Downloads a worker runs at once, over all its mappings (CONTENT_CONCURRENCY). */
export const DEFAULT_CONTENT_CONCURRENCY = 4;

/** Files larger than this are rejections (`too_large`), their bytes not copied (MAX_FILE_BYTES). */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 ** 3;
