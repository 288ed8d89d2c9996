import { api, ApiFailure, dropboxPath } from '../api.js';
import { describeCharacters, h, markedName, offendingCharacters, oneAtATime, replaceChildren } from '../dom.js';
import { announce } from '../notices.js';

/** Dropbox's root is "" in the API's paths and "/" in its answers. */
const segmentsOf = (path) => path.split('/').filter(Boolean);

/** Map a folder: browse one level at a time from the root, then map the folder shown. */
export function renderFolderBrowser(tab) {
  const { project, me, state } = tab;
  const policy = me.specialCharacters;
  const body = h('div', { id: 'folder-browser' });
  const view = { connectionId: null, path: '', folders: null, error: null, loading: false };
  let shownConnections = '';
  // Only the answer to the latest request is shown: a slow one for a folder left meanwhile is dropped.
  let opened = 0;

  async function open(path, focus = true) {
    const request = ++opened;
    view.path = path;
    view.loading = true;
    view.error = null;
    draw();
    let folders = null;
    let error = null;
    try {
      const answer = await api('GET', `${dropboxPath(project.id, 'connections', view.connectionId, 'folders')}?path=${encodeURIComponent(path || '/')}`);
      folders = answer.folders;
    } catch (err) {
      error = err.message;
    }
    if (request !== opened) return;
    view.folders = folders;
    view.error = error;
    view.loading = false;
    draw();
    if (focus) body.querySelector('#folder-heading')?.focus();
  }

  const mapFolder = oneAtATime(async (event, path, feedback) => {
    try {
      const mapping = await api('POST', dropboxPath(project.id, 'mappings'), { connectionId: view.connectionId, dropboxPath: path });
      const text = `Mapped ${mapping.dropboxPath} into the project folder “${mapping.targetFolder}”. Its first sync has started.`;
      replaceChildren(feedback, h('p', { className: 'notice success' }, text));
      announce(text);
      tab.changed();
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const text = err.code === 'special_characters'
        ? `This folder cannot be mapped: its path contains ${describeCharacters(err.details.characters ?? [])}, which are not transferred. Rename the folder in Dropbox, or map another folder.`
        : err.code === 'already_mapped'
          ? 'This folder is already mapped into the project; see it under Mappings.'
          : err.message;
      replaceChildren(feedback, h('p', { className: 'field-error', role: 'alert' }, text));
    }
  });

  function breadcrumbs() {
    const segments = segmentsOf(view.path);
    const crumbs = [{ name: 'Dropbox (root)', path: '' }, ...segments.map((name, i) => ({ name, path: `/${segments.slice(0, i + 1).join('/')}` }))];
    return h('nav', { 'aria-label': 'Folder path', className: 'breadcrumb' }, h('ol', {}, crumbs.map((c, i) =>
      h('li', {}, i === crumbs.length - 1
        ? h('span', { 'aria-current': 'location' }, c.name)
        : h('button', { type: 'button', className: 'link-button', onclick: () => void open(c.path) }, c.name)))));
  }

  function folderList() {
    if (view.loading) return h('p', { className: 'muted', role: 'status' }, 'Loading folders…');
    if (view.error) return h('p', { className: 'field-error', role: 'alert' }, view.error);
    if (!view.folders || view.folders.length === 0) return h('p', { className: 'muted' }, 'No subfolders here.');
    return h('ul', { className: 'folders', 'aria-label': 'Subfolders' }, view.folders.map((f) => {
      const characters = offendingCharacters(f.name, policy);
      if (characters.length === 0) {
        return h('li', {}, h('button', { type: 'button', className: 'folder', onclick: () => void open(f.path) },
          h('span', { 'aria-hidden': 'true', className: 'folder-icon' }), markedName(f.name)));
      }
      return h('li', { className: 'not-mappable' }, h('span', { 'aria-hidden': 'true', className: 'folder-icon' }), markedName(f.name, characters),
        h('span', { className: 'reason' }, ` Not mappable: ${describeCharacters(characters)} ${characters.length === 1 ? 'is' : 'are'} not transferred. Rename the folder in Dropbox to map it.`));
    }));
  }

  function draw() {
    const connection = state.connections.find((c) => c.id === view.connectionId);
    const picker = state.connections.length > 1
      ? h('div', { className: 'field' }, h('label', { for: 'browse-connection' }, 'Dropbox account'),
        h('select', { id: 'browse-connection', onchange: (e) => { view.connectionId = e.target.value; void open(''); } },
          state.connections.map((c) => h('option', { value: c.id, selected: c.id === view.connectionId }, c.account.email))))
      : h('p', {}, 'Browsing the Dropbox account ', h('strong', {}, connection?.account.email ?? ''), '.');
    const feedback = h('div', { id: 'map-feedback' });
    const atRoot = view.path === '';
    const mappable = !atRoot && offendingCharacters(view.path.replace(/\//gu, ''), policy).length === 0;
    replaceChildren(body, picker, breadcrumbs(),
      h('h3', { id: 'folder-heading', tabindex: '-1' }, atRoot ? 'Dropbox (root)' : view.path),
      folderList(),
      mappable ? h('div', { className: 'actions' }, h('button', { type: 'button', className: 'primary', id: 'map-this-folder', onclick: (e) => void mapFolder(e, view.path, feedback) }, `Map ${view.path}`)) : null,
      atRoot ? h('p', { className: 'help' }, 'Open a folder to map it. Only the files directly in a mapped folder are synced; map each subfolder separately.') : null,
      feedback);
  }

  function update() {
    const ids = state.connections.map((c) => c.id).join();
    const key = JSON.stringify([ids, state.loaded, state.connectionsRead ? null : state.error]);
    if (key === shownConnections) return;
    shownConnections = key;
    if (state.connections.length === 0) {
      view.connectionId = null;
      // Not "make a connection" while the connections could not be read: there may well be some.
      if (state.error && !state.connectionsRead) return replaceChildren(body, h('p', { className: 'field-error', role: 'alert' }, `The connections could not be read: ${state.error}`));
      return replaceChildren(body, h('p', {}, state.loaded ? 'Make a connection first: the folders of its Dropbox account are browsed here.' : 'Loading…'));
    }
    if (!state.connections.some((c) => c.id === view.connectionId)) {
      view.connectionId = state.connections[0].id;
      void open('', false);
    } else draw();
  }

  update();
  return {
    element: h('section', { 'aria-labelledby': 'map-title' }, h('h2', { id: 'map-title' }, 'Map a folder'), body),
    update,
  };
}
