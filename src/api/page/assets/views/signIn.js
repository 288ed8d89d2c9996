import { api, ApiFailure, session } from '../api.js';
import { h } from '../dom.js';
import { announce } from '../notices.js';
import { fieldError, setFieldError } from './forms.js';

/** Sign in with an API key; the key is checked with `GET /v1/me` before it is kept. */
export function renderSignIn(context) {
  const input = h('input', {
    id: 'api-key',
    name: 'apiKey',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'api-key-help api-key-error',
  });
  const error = fieldError('api-key-error');
  const form = h(
    'form',
    { className: 'card narrow', 'aria-labelledby': 'sign-in-title', novalidate: true },
    h('div', { className: 'field' }, h('label', { for: 'api-key' }, 'API key'), input, error,
      h('p', { id: 'api-key-help', className: 'help' }, 'Your key stays in this browser tab only and is forgotten when the tab closes.')),
    h('button', { type: 'submit', className: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      setFieldError(input, error, 'Enter your API key.');
      return;
    }
    try {
      context.me = await api('GET', '/v1/me', undefined, key);
      session.signIn(key);
      announce(`Signed in as ${context.me.email}.`);
      context.navigate('#/');
    } catch (err) {
      const text =
        err instanceof ApiFailure && err.status === 401
          ? 'This API key is not valid. Check that you copied all of it.'
          : err instanceof ApiFailure && err.status === 403
            ? 'This is the root key. Sign in with your own API key.'
            : err.message;
      setFieldError(input, error, text);
    }
  });
  return h('section', {}, h('h1', { id: 'sign-in-title' }, 'Sign in'), form);
}
