import { api, dropboxPath } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { renderConnections } from './connections.js';
import { renderFolderBrowser } from './folderBrowser.js';
import { renderMappings } from './mappings.js';

export const FEATURE_OFF_MESSAGE =
  'The Dropbox feature is not enabled for this project’s organization. Contact your account contact to get the feature enabled.';

// While a sync may be running (a new mapping, a command just sent) the tab refreshes quickly.
const FAST_REFRESH_MS = 1500;
const SLOW_REFRESH_MS = 15000;
const FAST_WINDOW_MS = 30000;
/** A mapping's first sync is watched quickly for this long; one that takes longer is shown by its errors, not by polling. */
const FIRST_SYNC_WATCH_MS = 5 * 60_000;

export function breadcrumb(...trail) {
  return h(
    'nav',
    { 'aria-label': 'Breadcrumb', className: 'breadcrumb' },
    h('ol', {}, h('li', {}, h('a', { href: '#/' }, 'Projects')), ...trail.map((t) => h('li', {}, t))),
  );
}

/** A project's page: the "Dropbox connection" tab for its admins, a plain message for others. */
export function renderProject(context, projectId) {
  const project = context.me.projects.find((p) => p.id === projectId);
  if (!project) {
    return h('section', {}, breadcrumb(), h('h1', {}, 'Project not found'),
      h('p', {}, 'This project does not exist or you are not one of its members.'));
  }
  const header = [breadcrumb(h('span', { 'aria-current': 'page' }, project.name)), h('h1', {}, project.name)];
  if (project.role !== 'admin') {
    return h('section', {}, header, h('p', { className: 'notice', id: 'member-notice' },
      'You are a member of this project. Only the project’s admins manage its Dropbox connection; ask one of them for changes.'));
  }
  const panel = h('div', { id: 'panel-dropbox', role: 'tabpanel', 'aria-labelledby': 'tab-dropbox', tabindex: '0' });
  const tabs = h('div', { role: 'tablist', 'aria-label': 'Project settings', className: 'tabs' },
    h('button', { type: 'button', role: 'tab', id: 'tab-dropbox', 'aria-selected': 'true', 'aria-controls': 'panel-dropbox' }, 'Dropbox connection'));
  const element = h('section', {}, header, tabs, panel);
  if (!project.organization.features.dropbox) {
    replaceChildren(panel, h('p', { className: 'notice warning', id: 'feature-off' }, FEATURE_OFF_MESSAGE));
    return element;
  }
  return { element, leave: mountDropboxTab(context, project, panel) };
}

/** The tab's sections over one shared state; returns what stops its refreshing. */
function mountDropboxTab(context, project, panel) {
  const state = { connections: [], mappings: [], fastUntil: Date.now() + FAST_WINDOW_MS, loaded: false };
  let timer;
  let left = false;

  const tab = {
    project,
    me: context.me,
    state,
    /** After a change: refresh now, and keep refreshing quickly for a while. */
    changed() {
      state.fastUntil = Date.now() + FAST_WINDOW_MS;
      void refresh();
    },
    refresh: () => refresh(),
  };
  const connections = renderConnections(tab);
  const browser = renderFolderBrowser(tab);
  const mappings = renderMappings(tab);
  replaceChildren(panel, connections.element, browser.element, mappings.element);

  async function load() {
    // One answer for every mapping, each with what its workflow says (or MongoDB's view).
    const [c, m] = await Promise.all([
      api('GET', dropboxPath(project.id, 'connections')),
      api('GET', `${dropboxPath(project.id, 'mappings')}?live=true`),
    ]);
    state.connections = c.connections;
    state.mappings = m.mappings;
  }

  // One refresh at a time: one asked for meanwhile (a change, the tab shown again) runs after it,
  // so an older answer never lands over a newer one and no second timer chain starts.
  let refreshing = false;
  let again = false;
  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    clearTimeout(timer);
    try {
      await load();
      state.error = null;
      state.connectionsRead = true;
    } catch (err) {
      state.error = err.message;
    }
    refreshing = false;
    if (left) return;
    if (again) {
      again = false;
      return void refresh();
    }
    state.loaded = true;
    connections.update();
    browser.update();
    mappings.update();
    const now = Date.now();
    const syncing = state.mappings.some((m) => m.state === 'active' && !m.lastSyncAt && now - Date.parse(m.createdAt) < FIRST_SYNC_WATCH_MS);
    // Slowly while failing (each refresh asks every mapping's workflow) and while no one looks.
    const fast = !state.error && !document.hidden && (syncing || now < state.fastUntil);
    timer = setTimeout(() => void refresh(), fast ? FAST_REFRESH_MS : SLOW_REFRESH_MS);
  }

  // Back in view: what changed meanwhile is shown at once.
  const onVisible = () => {
    if (!document.hidden) void refresh();
  };
  document.addEventListener('visibilitychange', onVisible);
  void refresh();
  return () => {
    left = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
