/**
 * The admin page: a hash router over four views. `#/` the projects, `#/projects/:p` a project's
 * "Dropbox connection" tab, `#/projects/:p/mappings/:m` a mapping's files and rejections. The API
 * key lives in sessionStorage (api.js); without it every route shows the sign-in form.
 */
import { api, ApiFailure, session } from './api.js';
import { h, replaceChildren } from './dom.js';
import { announce, takeReturnNotice } from './notices.js';
import { renderMapping } from './views/mapping.js';
import { renderProject } from './views/project.js';
import { renderProjects } from './views/projects.js';
import { renderSignIn } from './views/signIn.js';

const main = document.getElementById('main');
const account = document.getElementById('account');

/** What every view gets: who is signed in and how to move on. */
const context = {
  me: null,
  navigate(hash) {
    if (location.hash === hash) void route();
    else location.hash = hash;
  },
  async reloadMe() {
    context.me = await api('GET', '/v1/me');
    return context.me;
  },
  signOut() {
    session.signOut();
    context.me = null;
    context.navigate('#/');
    announce('Signed out.');
  },
};

// A view's timers and listeners end when another view takes the page.
let leaveView = () => {};

function renderAccount() {
  if (!context.me) {
    replaceChildren(account);
    return;
  }
  replaceChildren(
    account,
    h('span', { className: 'who' }, 'Signed in as ', h('strong', {}, context.me.email)),
    ' ',
    h('button', { type: 'button', className: 'link-button', onclick: () => context.signOut() }, 'Sign out'),
  );
}

let routing = 0;

async function route() {
  const turn = ++routing;
  leaveView();
  leaveView = () => {};
  // Fresh on every view: a role or an organization's feature may have changed meanwhile.
  if (session.key()) {
    try {
      await context.reloadMe();
    } catch (err) {
      if (!(err instanceof ApiFailure && err.status === 401)) return show(h('p', { className: 'error', role: 'alert' }, err.message));
      session.signOut();
      context.me = null;
    }
  }
  // A newer navigation started meanwhile: it draws the page.
  if (turn !== routing) return;
  renderAccount();
  if (!context.me) return show(renderSignIn(context));
  const parts = location.hash.replace(/^#\/?/u, '').split('/').filter(Boolean).map(decodeURIComponent);
  let view;
  if (parts[0] === 'projects' && parts[1] && parts[2] === 'mappings' && parts[3]) {
    view = renderMapping(context, parts[1], parts[3]);
  } else if (parts[0] === 'projects' && parts[1]) {
    view = renderProject(context, parts[1]);
  } else {
    view = renderProjects(context);
  }
  leaveView = view.leave ?? (() => {});
  show(view.element ?? view);
}

/** Puts a view on the page and moves focus to its heading, as a new page would. */
function show(element) {
  replaceChildren(main, takeReturnNotice(), element);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
    document.title = `${heading.textContent} · Dropbox folder sync`;
  } else main.focus();
}

// The skip link moves the focus without touching the address, which holds the view.
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  (main.querySelector('h1') ?? main).focus();
});
window.addEventListener('hashchange', () => void route());
void route();
