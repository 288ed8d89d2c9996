import { Dropbox } from 'dropbox';

const DROPBOX_API_ORIGIN = 'https://api.dropboxapi.com';

/**
 * The official SDK pointed at the emulator, the way the product reaches it: a custom `fetch`
 * that swaps Dropbox's API origin for the emulator's URL.
 */
export function sdkClientFor(
  emulatorUrl: string,
  accessToken: string,
  options: { pathRoot?: string } = {},
): Dropbox {
  const origin = emulatorUrl.replace(/\/+$/u, '');
  const redirect = (url: string, init?: RequestInit) => fetch(url.replace(DROPBOX_API_ORIGIN, origin), init);
  return new Dropbox({
    accessToken,
    fetch: redirect,
    ...(options.pathRoot ? { pathRoot: options.pathRoot } : {}),
  });
}
