import { api, ApiFailure, dropboxPath } from '../api.js';
import { h, oneAtATime, replaceChildren, time } from '../dom.js';
import { announce } from '../notices.js';
import { actWithFeedback, clearFieldError, confirmAction, fieldError, setFieldError } from './forms.js';

const CREDENTIAL_WORDS = { access_token: 'Access token', refresh_token: 'Refresh token (renewed automatically)' };

/** A refusal of the access Dropbox gave a refresh token: fixed in the app, then by its offline flow again. */
function refreshRefusal(err, scope) {
  switch (err.code) {
    case 'missing_scope':
      return `Tokens from this refresh token lack the “${scope}” permission. In the App Console’s Permissions tab, tick ${scope}, submit, then run your app’s offline flow again for a new refresh token.`;
    case 'access_denied':
      return 'Dropbox refused access with this refresh token. Check that the app and the account are allowed to use Dropbox, then run your app’s offline flow again.';
    case 'invalid_token':
    case 'expired_token':
      return 'Dropbox does not accept the access this refresh token gives. Run your app’s offline flow again for a new refresh token.';
    default:
      return undefined;
  }
}

/** Each login error beside the field to fix, in words that say what to do. */
function loginError(err, clientIdentification, withRefreshToken) {
  const scope = err.details?.requiredScope ?? err.details?.scope ?? 'files.metadata.read';
  const refused = withRefreshToken ? refreshRefusal(err, scope) : undefined;
  if (refused) return { field: 'refresh', text: refused };
  switch (err.code) {
    case 'invalid_token':
      return { field: 'token', text: 'Dropbox does not accept this access token. Copy the whole token from the Dropbox App Console again and paste it here.' };
    case 'expired_token':
      return { field: 'token', text: 'This access token has expired. Generate a new one in the Dropbox App Console and paste it here.' };
    case 'missing_scope':
      return { field: 'token', text: `This access token lacks the “${scope}” permission. In the App Console’s Permissions tab, tick ${scope}, submit, then generate a new token.` };
    case 'access_denied':
      return { field: 'token', text: 'Dropbox refused access with this token. Check that the app and the account are allowed to use Dropbox, then generate a new token.' };
    case 'identity_mismatch':
      return { field: 'client', text: `This token belongs to another Dropbox account than ${clientIdentification}. Enter the email of the account the token was generated in, or generate the token while signed in to ${clientIdentification}.` };
    case 'already_connected':
      return { field: 'client', text: err.message };
    case 'refresh_token_held':
      return { field: 'client', text: 'This account’s connection renews itself with a refresh token, which an access token would replace. Give it a new refresh token under “Use a refresh token instead”, or use Connect with Dropbox.' };
    case 'invalid_refresh_token':
      return { field: 'refresh', text: err.message };
    case 'invalid_app_credentials':
      return { field: 'appKey', text: err.message };
    case 'dropbox_unavailable': {
      // Dropbox may have named how long to wait (a rate limit): say it, rather than "a minute".
      const wait = err.details?.retryAfterSeconds;
      return { field: null, text: wait
        ? `Dropbox asked the service to slow down, so nothing was saved. Try Login again in ${wait === 1 ? '1 second' : wait < 120 ? `${wait} seconds` : `${Math.ceil(wait / 60)} minutes`}.`
        : `${err.status === 502 ? 'Dropbox answered with an error' : 'Dropbox could not be reached'}, so nothing was saved. Try Login again in a few minutes.` };
    }
    case 'invalid_request': {
      const fields = (err.details?.fields ?? []).map((f) => f.field);
      const field = fields.includes('clientIdentification') ? 'client' : fields.includes('accessToken') ? 'token'
        : fields.includes('appKey') ? 'appKey' : fields.some((f) => f === 'refreshToken' || f === 'appSecret') ? 'refresh' : null;
      return { field, text: err.message };
    }
    default:
      return { field: null, text: err.message };
  }
}

/** A connection's state, from what is known of its credential and its mappings. */
function connectionState(connection, mappings) {
  const expires = connection.accessTokenExpiresAt ? Date.parse(connection.accessTokenExpiresAt) : undefined;
  if (mappings.some((m) => m.connectionId === connection.id && m.state === 'needs_credentials'))
    return [h('span', { className: 'badge state-needs_credentials' }, 'Needs new credentials'),
      h('span', { className: 'muted' }, ' Log in again below with a new token, or use Connect with Dropbox: its mappings resume.')];
  if (connection.credentialKind !== 'refresh_token' && expires !== undefined && expires < Date.now())
    return h('span', { className: 'badge state-failed' }, 'Token expired');
  return h('span', { className: 'badge state-active' }, 'Connected');
}

export function renderConnections(tab) {
  const { project, me, state } = tab;
  const table = h('div', { id: 'connections' });
  const feedback = h('div', { id: 'connection-feedback' });
  let shown = '';

  // One request per connection: a second confirmation while the first is revoking would answer 404.
  const disconnect = oneAtATime(async (event, connection) => {
    replaceChildren(feedback);
    const email = connection.account.email;
    const confirmed = await confirmAction({
      id: 'disconnect',
      title: `Disconnect ${email}?`,
      text: 'The service forgets this account’s credentials and revokes them at Dropbox. A connection with mapped folders cannot be disconnected: unmap them first.',
      action: 'Disconnect',
    });
    if (!confirmed) return;
    const done = await actWithFeedback(
      feedback,
      () => api('DELETE', dropboxPath(project.id, 'connections', connection.id)),
      `Disconnected the Dropbox account ${email}.`,
    );
    if (done) tab.changed();
  }, (event, connection) => connection.id);

  const clientInput = h('input', { id: 'client-identification', name: 'clientIdentification', type: 'email', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'client-identification-help client-identification-error' });
  const tokenInput = h('input', { id: 'access-token', name: 'accessToken', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'access-token-help access-token-error' });
  const clientError = fieldError('client-identification-error');
  const tokenError = fieldError('access-token-error');
  // A refresh token of the admin's own Dropbox app: a connection that does not stop after four hours.
  const refreshInput = h('input', { id: 'refresh-token', name: 'refreshToken', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'refresh-token-help refresh-token-error' });
  const appKeyInput = h('input', { id: 'app-key', name: 'appKey', type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'app-key-error' });
  const appSecretInput = h('input', { id: 'app-secret', name: 'appSecret', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'app-secret-help' });
  const refreshError = fieldError('refresh-token-error');
  const appKeyError = fieldError('app-key-error');
  const refreshOption = h('details', { id: 'refresh-token-option' },
    h('summary', {}, 'Use a refresh token instead (renewed automatically)'),
    h('div', { className: 'field' }, h('label', { for: 'refresh-token' }, 'Refresh token'), refreshInput, refreshError,
      h('p', { id: 'refresh-token-help', className: 'help' }, 'From an offline OAuth flow of your own Dropbox app. The service renews the access token with it, so the connection does not stop when an access token expires.')),
    h('div', { className: 'field' }, h('label', { for: 'app-key' }, 'App key'), appKeyInput, appKeyError),
    h('div', { className: 'field' }, h('label', { for: 'app-secret' }, 'App secret (optional)'), appSecretInput,
      h('p', { id: 'app-secret-help', className: 'help' }, 'Leave it empty for a refresh token issued to a PKCE flow.')));
  const formError = h('p', { id: 'new-connection-error', className: 'field-error', role: 'alert', hidden: true });
  const formNotice = h('div', { id: 'new-connection-notice', role: 'status' });

  /** The refresh token given in the form, if the admin chose to give one. */
  const givenRefreshToken = () => (refreshOption.open ? refreshInput.value.trim() : '');

  const clearErrors = () => {
    clearFieldError(clientInput, clientError);
    clearFieldError(tokenInput, tokenError);
    clearFieldError(refreshInput, refreshError);
    clearFieldError(appKeyInput, appKeyError);
    replaceChildren(formError);
    formError.hidden = true;
  };
  const showError = (err) => {
    const { field, text } = loginError(err, clientInput.value.trim(), givenRefreshToken() !== '');
    if (field === 'client') setFieldError(clientInput, clientError, text);
    else if (field === 'token') setFieldError(tokenInput, tokenError, text);
    else if (field === 'refresh') setFieldError(refreshInput, refreshError, text);
    else if (field === 'appKey') setFieldError(appKeyInput, appKeyError, text);
    else {
      replaceChildren(formError, text);
      formError.hidden = false;
    }
    announce(text);
  };

  const oauth = me.dropboxOAuth;
  const connectWithDropbox = oauth.enabled
    ? h('button', { type: 'button', id: 'connect-with-dropbox', className: 'secondary', onclick: (e) => void startOAuth(e) }, 'Connect with Dropbox')
    : h('p', { className: 'help', id: 'oauth-off' }, '“Connect with Dropbox” is not available: ', oauth.reason ?? 'the service has no Dropbox app configured.');

  const startOAuth = oneAtATime(async () => {
    clearErrors();
    const clientIdentification = clientInput.value.trim();
    if (!clientIdentification) return setFieldError(clientInput, clientError, 'Enter the email of the Dropbox account to connect.');
    try {
      const { authorizeUrl } = await api('POST', dropboxPath(project.id, 'oauth', 'start'), { clientIdentification });
      location.assign(authorizeUrl);
    } catch (err) {
      showError(err);
    }
  });

  const form = h(
    'form',
    { id: 'new-connection', 'aria-labelledby': 'new-connection-title', novalidate: true },
    h('div', { className: 'field' }, h('label', { for: 'client-identification' }, 'Client identification'), clientInput, clientError,
      h('p', { id: 'client-identification-help', className: 'help' }, 'The email address of the Dropbox account.')),
    h('div', { className: 'field' }, h('label', { for: 'access-token' }, 'Access token'), tokenInput, tokenError,
      h('p', { id: 'access-token-help', className: 'help' }, 'Generated in the Dropbox App Console for that account, with the files.metadata.read permission. It is checked with Dropbox, then stored encrypted; it is never shown again.')),
    refreshOption,
    formError,
    h('div', { className: 'actions' }, h('button', { type: 'submit', className: 'primary' }, 'Login'), connectWithDropbox),
    formNotice,
  );
  // One login at a time: a second submit would find the account connected and replace its token.
  form.addEventListener('submit', oneAtATime(async (event) => {
    event.preventDefault();
    clearErrors();
    replaceChildren(formNotice);
    const clientIdentification = clientInput.value.trim();
    const refreshToken = givenRefreshToken();
    const appSecret = appSecretInput.value.trim();
    const body = refreshToken
      ? { clientIdentification, refreshToken, appKey: appKeyInput.value.trim(), ...(appSecret ? { appSecret } : {}) }
      : { clientIdentification, accessToken: tokenInput.value.trim() };
    if (!clientIdentification) return setFieldError(clientInput, clientError, 'Enter the email of the Dropbox account.');
    if (refreshToken && !body.appKey) return setFieldError(appKeyInput, appKeyError, 'Enter the key of the Dropbox app the refresh token was issued to.');
    if (!refreshToken && !body.accessToken) return setFieldError(tokenInput, tokenError, 'Paste the access token from the Dropbox App Console, or a refresh token under “Use a refresh token instead”.');
    try {
      const { connection, replaced } = await saveConnection(body);
      form.reset();
      const text = replaced
        ? `Replaced the credentials of the Dropbox account ${connection.account.email}; its mappings carry on with them.`
        : `Connected the Dropbox account ${connection.account.email}.`;
      replaceChildren(formNotice, h('p', { className: 'notice success' }, text),
        (connection.warnings ?? []).map((w) => h('p', { className: 'notice warning' }, w.message)));
      announce(text);
      tab.changed();
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      showError(err);
    }
  }));

  /** Logging in again to an account already connected gives that connection the new token. */
  async function saveConnection(body) {
    try {
      return { connection: await api('POST', dropboxPath(project.id, 'connections'), body), replaced: false };
    } catch (err) {
      const connectionId = err instanceof ApiFailure && err.code === 'already_connected' ? err.details.connectionId : undefined;
      if (!connectionId) throw err;
      // The service refuses (409 refresh_token_held) to put an access token in a working refresh token's place.
      const { clientIdentification: _ignored, ...credentials } = body;
      const path = `${dropboxPath(project.id, 'connections', connectionId)}/token`;
      return { connection: await api('PUT', path, credentials), replaced: true };
    }
  }

  function update() {
    // Redrawn only when something changed: a redraw would lose the reader's place.
    const unread = state.connectionsRead ? null : state.error;
    const key = JSON.stringify([state.loaded, unread, state.connections, state.mappings.map((m) => [m.connectionId, m.state])]);
    if (key === shown) return;
    shown = key;
    if (!state.loaded) return replaceChildren(table, h('p', { className: 'muted' }, 'Loading connections…'));
    // Never "no account is connected" when the connections could not be read: the admin would connect again.
    if (unread) return replaceChildren(table, h('p', { className: 'field-error', role: 'alert' }, `The connections could not be read: ${unread} The page tries again shortly.`));
    if (state.connections.length === 0) {
      return replaceChildren(table, h('p', {}, 'No Dropbox account is connected yet. Log in with the form below.'));
    }
    replaceChildren(table, h('table', {},
      h('thead', {}, h('tr', {}, ['Account', 'Credential', 'Expires', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, state.connections.map((c) => h('tr', {},
        h('th', { scope: 'row' }, c.account.email, c.account.name ? h('span', { className: 'muted' }, ` (${c.account.name})`) : null),
        h('td', {}, CREDENTIAL_WORDS[c.credentialKind ?? 'access_token']),
        h('td', {}, c.accessTokenExpiresAt ? time(c.accessTokenExpiresAt) : h('span', { className: 'muted' }, 'Not known'),
          c.lastRefreshAt ? h('span', { className: 'muted' }, ' · renewed ', time(c.lastRefreshAt)) : null),
        h('td', {}, connectionState(c, state.mappings)),
        h('td', {}, h('button', { type: 'button', className: 'danger', 'aria-label': `Disconnect ${c.account.email}`, onclick: (e) => void disconnect(e, c) }, 'Disconnect')),
      ))),
    ));
  }

  update();
  return {
    element: [
      h('section', { 'aria-labelledby': 'connections-title' }, h('h2', { id: 'connections-title' }, 'Connections'), feedback, table),
      h('section', { 'aria-labelledby': 'new-connection-title' }, h('h2', { id: 'new-connection-title' }, 'New connection'), form),
    ],
    update,
  };
}
