import { api, ApiFailure, dropboxPath } from '../api.js';
import { describeCharacters, formatSize, h, markedName, offendingCharacters, oneAtATime, replaceChildren, time } from '../dom.js';
import { announce } from '../notices.js';
import { breadcrumb } from './project.js';
import { contentCounts, stateBadge, workflowLink } from './mappingState.js';

const PAGE_SIZE = 50;
const REJECTIONS_PAGE_SIZE = 100;
/** Why a file's content is not stored, by the API's `contentError.reason`. */
const CONTENT_FAILURES = {
  too_large: 'Too large to store',
  missing_scope: 'Needs the files.content.read permission',
  hash_mismatch: 'Did not match Dropbox’s checksum',
  not_found: 'No longer in Dropbox',
  not_downloadable: 'Dropbox cannot send this kind of file: export it in Dropbox',
  restricted: 'Dropbox blocks its content (a copyright or legal claim)',
};

const plural = (n = 0, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const REFRESH_MS = 2000;
/** While the service fails to answer, or no one looks. */
const SLOW_REFRESH_MS = 15000;


/**
 * Asks for a download link (the key stays in the header), then lets the browser fetch it as a
 * plain download: the bytes stream to disk with the browser's own progress, however large the
 * file; `failed` shows why it could not. A double click downloads once.
 */
const download = oneAtATime(async (event, contentPath, name, failed) => {
  event.preventDefault();
  try {
    const { url } = await api('POST', `${contentPath}-link`);
    const a = h('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    failed(`${name} could not be downloaded: ${err.message}`);
  }
}, (event, contentPath) => contentPath);

/** A mapping's page: its status, its files (paged) and its rejections, refreshed while open. */
export function renderMapping(context, projectId, mappingId) {
  const project = context.me.projects.find((p) => p.id === projectId);
  const base = dropboxPath(projectId, 'mappings', mappingId);
  const status = h('div', { id: 'mapping-status' });
  const actionError = h('div', { id: 'mapping-action-error' });
  const filesBody = h('div', { id: 'files' });
  const deletedBody = h('section', { id: 'deleted-files', 'aria-labelledby': 'deleted-title', hidden: true });
  const rejectionsBody = h('div', { id: 'rejections' });
  const feedback = h('div', { id: 'rejection-feedback' });
  const heading = h('h1', {}, 'Mapping');
  const crumbs = breadcrumb(
    h('a', { href: `#/projects/${encodeURIComponent(projectId)}` }, project?.name ?? 'Project'),
    h('span', { 'aria-current': 'page' }, 'Files and rejections'),
  );
  const moreButton = h('button', { type: 'button', className: 'secondary', hidden: true }, 'Show older files');
  const moreRejectionsButton = h('button', { type: 'button', className: 'secondary', hidden: true }, 'Show more rejections');
  const moreDeletedButton = h('button', { type: 'button', className: 'secondary', hidden: true }, 'Show more deleted files');
  const staleNotice = h('div', { id: 'records-changed' });
  const view = {
    mapping: null, files: [], next: null, extraPages: false,
    rejections: [], rejectionsNext: null, extraRejectionPages: false, deleted: [], deletedNext: null, extraDeletedPages: false,
    error: null, seen: null, stale: false,
  };
  let timer;
  let left = false;
  let shown = '';

  const mapSubfolder = oneAtATime(async (event, rejection) => {
    try {
      const created = await api('POST', dropboxPath(projectId, 'mappings'), { connectionId: view.mapping.connectionId, dropboxPath: rejection.path });
      const text = `Mapped ${created.dropboxPath}. Its first sync has started; see it in the project’s mappings.`;
      replaceChildren(feedback, h('p', { className: 'notice success' }, text, ' ', h('a', { href: `#/projects/${encodeURIComponent(projectId)}` }, 'Back to the mappings')));
      announce(text);
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const text = err.code === 'already_mapped' ? `${rejection.path} is already mapped into this project.` : err.message;
      replaceChildren(feedback, h('p', { className: 'field-error', role: 'alert' }, text));
    }
  });

  function fileRow(f) {
    const content = f.id ? `${base}/files/${encodeURIComponent(f.id)}/content` : null;
    // The API serves the newest stored version, which may be older than the file in Dropbox.
    const served = content && (f.contentState === 'stored' || f.storedRev);
    const earlier = served && f.contentState !== 'stored';
    return h('tr', {},
      h('th', { scope: 'row' }, markedName(f.name)),
      h('td', { className: 'number' }, formatSize(f.size)),
      h('td', {}, time(f.serverModified)),
      h('td', {},
        served ? h('a', { href: content, download: f.name, onclick: (e) => void download(e, content, f.name, showError) },
          earlier ? 'Download the earlier version' : 'Download', h('span', { className: 'visually-hidden' }, ` ${f.name}`)) : null,
        !served || earlier ? h('span', { className: 'muted' }, earlier ? ` (this version: ${contentNote(f)})` : contentNote(f)) : null));
  }

  function filesTable(caption, files) {
    return h('table', {}, h('caption', { className: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ['Name', 'Size', 'Modified in Dropbox', 'Content'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, files.map(fileRow)));
  }

  function contentNote(f) {
    if (f.contentState === 'pending') return 'Not stored yet';
    if (f.contentState !== 'failed') return '—';
    return CONTENT_FAILURES[f.contentError?.reason] ?? 'Could not be stored';
  }

  function rejectionItem(r) {
    if (r.kind === 'subfolder') {
      // A subfolder is mappable unless its own name breaks the policy (its parent is mapped).
      const characters = offendingCharacters(r.name, context.me.specialCharacters);
      return h('li', { className: 'rejection' },
        h('span', { className: 'folder-icon', 'aria-hidden': 'true' }), markedName(r.name, characters),
        h('span', { className: 'why' }, 'A subfolder: not synced with this mapping. ', r.hint ?? ''),
        characters.length
          ? h('span', { className: 'why error-text' }, `Not mappable: ${describeCharacters(characters)} ${characters.length === 1 ? 'is' : 'are'} not transferred. Rename it in Dropbox to map it.`)
          : h('div', { className: 'actions' }, h('button', { type: 'button', className: 'secondary', 'aria-label': `Map this folder: ${r.path}`, onclick: (e) => void mapSubfolder(e, r) }, 'Map this folder')));
    }
    if (r.kind === 'too_large') {
      return h('li', { className: 'rejection' }, markedName(r.name, []),
        h('span', { className: 'why' }, `Not transferred: ${r.reason}. Its details are listed; its content is not copied.`));
    }
    return h('li', { className: 'rejection' }, markedName(r.name, r.characters ?? []),
      h('span', { className: 'why' }, `Not transferred: ${describeCharacters(r.characters ?? [])} ${(r.characters ?? []).length === 1 ? 'is' : 'are'} not allowed in names. Rename the file in Dropbox and it syncs.`));
  }

  function draw() {
    const key = JSON.stringify([view.mapping, view.files, view.next, view.rejections, view.rejectionsNext, view.deleted, view.deletedNext, view.stale, view.error]);
    if (key === shown) return;
    shown = key;
    const m = view.mapping;
    if (m) {
      heading.textContent = m.dropboxPath;
      document.title = `${m.dropboxPath} · Dropbox folder sync`;
      replaceChildren(status, h('p', {}, stateBadge(m.state), ' Last sync ', time(m.lastSyncAt, 'not yet'), ' · ',
        [plural(m.counts?.files, 'file'), plural(m.counts?.rejections, 'rejected file'), plural(m.counts?.skippedFolders, 'skipped subfolder')].join(', '),
        m.counts?.contents ? ` · Contents: ${contentCounts(m.counts.contents)}` : ''),
      m.lastError ? h('p', { className: 'error-text' }, `Last error: ${m.lastError}`) : null,
      m.state !== 'unmapped' && m.live === false ? h('p', { className: 'muted not-answering' }, 'The sync service is not answering: this is the last state it recorded.') : null,
      m.contentProblem ? h('p', { className: 'error-text' }, `${m.contentProblem.message} (log in again with it on the project’s Dropbox connection tab).`) : null,
      h('p', {}, workflowLink(context.me.temporalUi, m)));
    }
    if (view.error) replaceChildren(status, h('p', { className: 'field-error', role: 'alert' }, view.error));
    replaceChildren(filesBody, view.files.length === 0 ? h('p', { className: 'muted' }, 'No files synced yet.') :
      filesTable('Synced files, newest first', view.files));
    moreButton.hidden = !view.next;
    replaceChildren(staleNotice, view.stale
      ? h('p', { className: 'notice' }, 'Files changed since you opened more pages. ',
        h('button', { type: 'button', className: 'secondary', onclick: () => showNewest() }, 'Show the newest'))
      : null);
    deletedBody.hidden = view.deleted.length === 0;
    replaceChildren(deletedBody, h('h2', { id: 'deleted-title' }, 'Deleted in Dropbox'),
      h('p', { className: 'help' }, 'Deleted or moved away in Dropbox since they were synced: their records and stored contents are kept.'),
      filesTable('Files deleted in Dropbox, newest first', view.deleted), moreDeletedButton);
    moreDeletedButton.hidden = !view.deletedNext;
    moreRejectionsButton.hidden = !view.rejectionsNext;
    const names = view.rejections.filter((r) => r.kind === 'special_characters');
    const large = view.rejections.filter((r) => r.kind === 'too_large');
    const folders = view.rejections.filter((r) => r.kind === 'subfolder');
    replaceChildren(rejectionsBody,
      view.rejections.length === 0 ? h('p', { className: 'muted' }, 'Nothing rejected.') : null,
      names.length ? [h('h3', {}, 'Names with special characters'), h('ul', { className: 'rejections' }, names.map(rejectionItem))] : null,
      large.length ? [h('h3', {}, 'Files too large'), h('ul', { className: 'rejections' }, large.map(rejectionItem))] : null,
      folders.length ? [h('h3', {}, 'Skipped subfolders'), h('ul', { className: 'rejections' }, folders.map(rejectionItem))] : null);
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const mapping = await api('GET', base);
      // Files and rejections are asked for again only when a sync changed something: a big
      // mapping's newest-first listing is not free. Pages the admin opened stay as they are, and
      // the page says they are out of date, with a button to start again from the newest.
      const changed = JSON.stringify([mapping.counts, mapping.lastSyncAt]);
      if (changed !== view.seen) {
        const [files, rejections, deleted] = await Promise.all([
          view.extraPages ? null : api('GET', `${base}/files?order=newest&limit=${PAGE_SIZE}`),
          view.extraRejectionPages ? null : api('GET', `${base}/rejections?limit=${REJECTIONS_PAGE_SIZE}`),
          view.extraDeletedPages ? null : api('GET', `${base}/files?deleted=true&order=newest&limit=${PAGE_SIZE}`),
        ]);
        // Unless the admin opened more pages while these were asked for: those stay too.
        if (deleted && !view.extraDeletedPages) {
          view.deleted = deleted.files;
          view.deletedNext = deleted.next;
        }
        if (files && !view.extraPages) {
          view.files = files.files;
          view.next = files.next;
        }
        if (rejections && !view.extraRejectionPages) {
          view.rejections = rejections.rejections;
          view.rejectionsNext = rejections.next;
        }
        view.stale = view.seen !== null && (view.extraPages || view.extraRejectionPages || view.extraDeletedPages);
        view.seen = changed;
      }
      view.mapping = mapping;
      view.error = null;
    } catch (err) {
      view.error = err.message;
      // Not there, or not the admin's (any more): asking again will not change that.
      if (err instanceof ApiFailure && [401, 403, 404].includes(err.status)) view.stopped = true;
    }
    if (left) return;
    draw();
    if (view.stopped || view.mapping?.state === 'unmapped') return;
    timer = setTimeout(() => void refresh(), view.error || document.hidden ? SLOW_REFRESH_MS : REFRESH_MS);
  }

  /** What an action of the admin's on this page could not do; kept until the next one. */
  function showError(message) {
    replaceChildren(actionError, h('p', { className: 'field-error', role: 'alert' }, message));
  }

  /** A "show more" button: one request at a time, and a failure said rather than swallowed. */
  function showMore(button, load) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      replaceChildren(actionError);
      try {
        announce(await load());
        draw();
      } catch (err) {
        showError(err.message);
      } finally {
        button.disabled = false;
      }
    });
  }

  showMore(moreButton, async () => {
    const page = await api('GET', `${base}/files?order=newest&limit=${PAGE_SIZE}&after=${encodeURIComponent(view.next)}`);
    view.extraPages = true;
    view.files = [...view.files, ...page.files];
    view.next = page.next;
    return `${page.files.length} more files shown.`;
  });

  showMore(moreDeletedButton, async () => {
    const page = await api('GET', `${base}/files?deleted=true&order=newest&limit=${PAGE_SIZE}&after=${encodeURIComponent(view.deletedNext)}`);
    view.extraDeletedPages = true;
    view.deleted = [...view.deleted, ...page.files];
    view.deletedNext = page.next;
    return `${page.files.length} more deleted files shown.`;
  });

  /** Drops the pages opened beyond the first and reads the first ones again. */
  function showNewest() {
    Object.assign(view, { extraPages: false, extraRejectionPages: false, extraDeletedPages: false, stale: false, seen: null });
    announce('Showing the newest files and rejections.');
    void refresh();
  }

  showMore(moreRejectionsButton, async () => {
    const page = await api('GET', `${base}/rejections?limit=${REJECTIONS_PAGE_SIZE}&after=${encodeURIComponent(view.rejectionsNext)}`);
    view.extraRejectionPages = true;
    view.rejections = [...view.rejections, ...page.rejections];
    view.rejectionsNext = page.next;
    return `${page.rejections.length} more rejections shown.`;
  });

  void refresh();
  const element = h('section', {}, crumbs, heading, status, actionError, staleNotice,
    h('section', { 'aria-labelledby': 'files-title' }, h('h2', { id: 'files-title' }, 'Files'), filesBody, moreButton),
    deletedBody,
    h('section', { 'aria-labelledby': 'rejections-title' }, h('h2', { id: 'rejections-title' }, 'Rejections'), feedback, rejectionsBody, moreRejectionsButton));
  return { element, leave: () => { left = true; clearTimeout(timer); } };
}
