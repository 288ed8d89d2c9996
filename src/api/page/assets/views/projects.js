import { h } from '../dom.js';

/** The projects the key belongs to, with the caller's role and whether Dropbox is available. */
export function renderProjects(context) {
  const { projects } = context.me;
  const list = projects.length
    ? h(
        'ul',
        { className: 'project-list' },
        projects.map((p) =>
          h(
            'li',
            { className: 'card' },
            h('a', { href: `#/projects/${encodeURIComponent(p.id)}`, className: 'project-link' }, p.name),
            h(
              'p',
              { className: 'muted' },
              `${p.organization.name ?? 'Organization'} · ${p.role === 'admin' ? 'Admin' : 'Member'}`,
              p.organization.features.dropbox ? '' : ' · Dropbox not enabled',
            ),
          ),
        ),
      )
    : h('p', {}, 'You are not a member of any project yet. Ask your organization’s administrator to add you.');
  return h('section', {}, h('h1', {}, 'Projects'), list);
}
