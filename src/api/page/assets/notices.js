/** Announcements for screen readers, and the notice "Connect with Dropbox" leaves in the address. */
import { h } from './dom.js';

const announcer = () => document.getElementById('announcer');

/** Read out by screen readers (a polite live region); the visible page says it too. */
export function announce(text) {
  const region = announcer();
  region.textContent = '';
  // A fresh text node after a tick: screen readers read a changed region, not a repeated one.
  setTimeout(() => (region.textContent = text), 50);
}

const OAUTH_ERRORS = {
  access_denied: 'Dropbox was not connected: the sign-in at Dropbox was cancelled or refused. Try again and choose “Allow”.',
  identity_mismatch:
    'Dropbox was not connected: you signed in to Dropbox with another account than the client identification. Sign in to Dropbox with that account, or correct the client identification.',
  missing_scope:
    'Dropbox was not connected: the app was not granted the permission it needs (files.metadata.read). Try again and allow it.',
  invalid_oauth_state: 'Dropbox was not connected: the sign-in took too long or was already used. Start again.',
  dropbox_unavailable: 'Dropbox was not connected: Dropbox did not answer. Try again in a minute.',
  oauth_code_refused: 'Dropbox was not connected: Dropbox refused the sign-in code (it works once, for a few minutes). Start Connect with Dropbox again.',
  feature_disabled: 'Dropbox was not connected: Dropbox integration is not enabled for this project’s organization. Contact your account contact to get the feature enabled.',
  forbidden: 'Dropbox was not connected: only the project’s admins may connect Dropbox accounts.',
  internal_error: 'Dropbox was not connected: something went wrong on our side and nothing was saved. Try again; if it happens again, tell your administrator.',
  dropbox_error: 'Dropbox was not connected: Dropbox ended the sign-in without a usable answer. Start Connect with Dropbox again.',
  invalid_refresh_token: 'Dropbox was not connected: Dropbox would not renew the access it had just given. Start Connect with Dropbox again.',
  invalid_app_credentials: 'Dropbox was not connected: Dropbox refused the service’s app key. Tell your administrator (DROPBOX_APP_KEY); meanwhile log in with an access token.',
  oauth_not_configured: 'Dropbox was not connected: this service has no Dropbox app of its own any more. Log in with an access token instead.',
};

let pending = readReturn();

/** `?connection=<id>` or `?error=<code>` from the OAuth callback's redirect, read once. */
function readReturn() {
  const query = new URLSearchParams(location.search);
  const connection = query.get('connection');
  const error = query.get('error');
  if (!connection && !error) return null;
  // The address goes back to plain `/`: a reload must not show the notice again.
  history.replaceState(null, '', `/${location.hash}`);
  if (connection) return { kind: 'success', text: 'Dropbox is connected: the new connection is listed in the project’s Dropbox connection tab.' };
  return {
    kind: 'error',
    text: OAUTH_ERRORS[error] ?? `Dropbox was not connected (${error}). Try again, or connect with an access token.`,
  };
}

/** The notice to show above the first view, once. */
export function takeReturnNotice() {
  if (!pending) return null;
  const { kind, text } = pending;
  pending = null;
  announce(text);
  return h('p', { className: `notice ${kind}`, id: 'return-notice' }, text);
}
