import { h } from '../dom.js';

/** Each state in words an admin reads, with what to do where there is something to do. */
export const STATE_WORDS = {
  active: 'Active',
  paused: 'Paused',
  needs_credentials: 'Needs new credentials',
  feature_disabled: 'Dropbox feature off',
  failed: 'Failed',
  unmapped: 'Unmapped',
};

/** The state as a word on a coloured badge: the colour repeats the word, never replaces it. */
export function stateBadge(state) {
  return h('span', { className: `badge state-${state}` }, STATE_WORDS[state] ?? state);
}

/** The mapping's workflow in the Temporal Web UI, when the service knows where that is. */
export function workflowLink(temporalUi, mapping) {
  if (!temporalUi) return null;
  const url = `${temporalUi.url.replace(/\/+$/u, '')}/namespaces/${encodeURIComponent(temporalUi.namespace)}/workflows/${encodeURIComponent(mapping.workflowId)}`;
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', className: 'external' },
    'Workflow in Temporal', h('span', { className: 'visually-hidden' }, ` for ${mapping.dropboxPath} (opens in a new tab)`));
}

/** The mapping's file versions by what became of their bytes, as the API counts them. */
export const contentCounts = (c) => `${c.stored} stored, ${c.pending} waiting, ${c.failed} not stored`;
