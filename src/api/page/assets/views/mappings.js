import { api, dropboxPath } from '../api.js';
import { h, oneAtATime, replaceChildren, time } from '../dom.js';
import { actWithFeedback, confirmAction } from './forms.js';
import { STATE_WORDS, contentCounts, stateBadge, workflowLink } from './mappingState.js';

const COMMAND_DONE = { pause: 'Paused', resume: 'Resumed', sync: 'Started a sync of' };

const confirmUnmap = (mapping) => confirmAction({
  id: 'unmap',
  title: `Unmap ${mapping.dropboxPath}?`,
  text: 'The folder stops syncing. Files already synced stay in the project; you can map the folder again later.',
  action: 'Unmap',
});

/** The project's mappings: state, times, counts, last error, and the admin's commands. */
export function renderMappings(tab) {
  const { project, me, state } = tab;
  const list = h('div', { id: 'mappings' });
  const feedback = h('div', { id: 'mapping-feedback' });
  let shown = '';
  // One command per mapping and action at a time: a double click sends one.
  const command = oneAtATime(async (event, mapping, action) => {
    replaceChildren(feedback);
    if (action === 'unmap' && !(await confirmUnmap(mapping))) return;
    const done = await actWithFeedback(
      feedback,
      () => action === 'unmap'
        ? api('DELETE', dropboxPath(project.id, 'mappings', mapping.id))
        : api('POST', dropboxPath(project.id, 'mappings', mapping.id, action)),
      action === 'unmap' ? `Unmapped ${mapping.dropboxPath}.` : `${COMMAND_DONE[action]} ${mapping.dropboxPath}.`,
    );
    if (done) tab.changed();
  }, (event, mapping, action) => `${mapping.id}:${action}`);

  function button(mapping, action, label) {
    return h('button', { type: 'button', className: action === 'unmap' ? 'danger' : 'secondary', 'data-focus': `${mapping.id}:${action}`,
      'aria-label': `${label} ${mapping.dropboxPath}`, onclick: (e) => void command(e, mapping, action) }, label);
  }

  function card(m) {
    const live = m.state !== 'unmapped';
    const counts = m.counts ?? { files: 0, rejections: 0, skippedFolders: 0 };
    const row = (term, ...value) => [h('dt', {}, term), h('dd', {}, ...value)];
    return h('li', { className: `card mapping state-border-${m.state}`, 'data-mapping': m.id },
      h('h3', {}, m.dropboxPath),
      h('dl', { className: 'facts' },
        row('State', stateBadge(m.state)),
        row('Project folder', m.targetFolder),
        row('Last sync', time(m.lastSyncAt, 'Not yet')),
        row('Next sync', !live ? h('span', { className: 'muted' }, '—')
          : m.live === false ? h('span', { className: 'muted not-answering' }, 'Unknown: the sync service is not answering')
            : time(m.nextSyncAt, m.state === 'active' ? 'Soon' : 'Not scheduled')),
        row('Files', String(counts.files)),
        row('Rejected files', String(counts.rejections)),
        row('Skipped subfolders', String(counts.skippedFolders)),
        counts.contents ? row('Contents', contentCounts(counts.contents)) : [],
        m.lastError ? row('Last error', h('span', { className: 'error-text' }, m.lastError)) : [],
        m.contentProblem ? row('Content problem', h('span', { className: 'error-text' }, m.contentProblem.message)) : []),
      h('div', { className: 'actions' },
        live && m.state === 'paused' ? button(m, 'resume', 'Resume') : null,
        live && m.state !== 'paused' ? button(m, 'pause', 'Pause') : null,
        live && m.state !== 'paused' ? button(m, 'sync', 'Sync now') : null,
        live ? button(m, 'unmap', 'Unmap') : null,
        h('a', { href: `#/projects/${encodeURIComponent(project.id)}/mappings/${encodeURIComponent(m.id)}`, 'data-focus': `${m.id}:records` },
          'Files and rejections', h('span', { className: 'visually-hidden' }, ` of ${m.dropboxPath}`)),
        workflowLink(me.temporalUi, m)));
  }

  function update() {
    const key = JSON.stringify([state.loaded, state.error, state.mappings]);
    if (key === shown) return;
    shown = key;
    // Redraws keep the keyboard where it was: the same button of the same mapping gets focus back.
    const focused = document.activeElement?.getAttribute?.('data-focus');
    const mappings = [...state.mappings].sort((a, b) => Number(a.state === 'unmapped') - Number(b.state === 'unmapped'));
    replaceChildren(list,
      state.error ? h('p', { className: 'field-error', role: 'alert' }, state.error) : null,
      !state.loaded ? h('p', { className: 'muted' }, 'Loading mappings…')
        : mappings.length === 0 ? h('p', {}, 'No folder is mapped yet.')
          : h('ul', { className: 'mapping-list' }, mappings.map(card)));
    if (focused && document.activeElement === document.body) {
      const again = list.querySelector(`[data-focus="${CSS.escape(focused)}"]`) ??
        list.querySelector(`[data-mapping="${CSS.escape(focused.split(':')[0])}"] [data-focus]`);
      again?.focus();
    }
  }

  update();
  return {
    element: h('section', { 'aria-labelledby': 'mappings-title' }, h('h2', { id: 'mappings-title' }, 'Mappings'), feedback, list,
      h('p', { className: 'help' }, 'States: ', Object.values(STATE_WORDS).join(', '), '. This list refreshes by itself.')),
    update,
  };
}
