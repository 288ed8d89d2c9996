import { Dropbox } from 'dropbox';

/** One origin stands for Dropbox's api, content and notify hosts. */
const DROPBOX_ORIGINS = /^https:\/\/(api|content|notify)\.dropboxapi\.com/u;

/**
 * The official SDK pointed at the emulator, the way the product reaches it: a custom `fetch`
 * that swaps Dropbox's origins for the emulator's URL.
 */
export function sdkClientFor(
  emulatorUrl: string,
  accessToken: string,
  options: { pathRoot?: string } = {},
): Dropbox {
  const origin = emulatorUrl.replace(/\/+$/u, '');
  const redirect = (url: string, init?: RequestInit) => fetch(url.replace(DROPBOX_ORIGINS, origin), init);
  return new Dropbox({
    accessToken,
    fetch: redirect,
    ...(options.pathRoot ? { pathRoot: options.pathRoot } : {}),
  });
}
