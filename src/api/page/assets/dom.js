/**
 * Building DOM from data without innerHTML: every text goes in as text, so a file or folder
 * name can never become markup.
 */

/** h('button', { type: 'button', onclick }, 'Save') — attributes, `on…` listeners, children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'className') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/u;
/**
 * Direction controls: obeyed, they make a name read as another (`invoice\u202Efdp.exe` shows as
 * "invoiceexe.pdf"), so names show them as marks instead.
 */
const DIRECTION = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

const codePoint = (ch) => `U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/** How a character is named to people: invisible ones by their code point. */
export function describeCharacter(ch) {
  return CONTROL.test(ch) || DIRECTION.test(ch) ? codePoint(ch) : `“${ch}”`;
}

export function describeCharacters(chars) {
  return chars.map(describeCharacter).join(', ');
}

/** The characters of `name` that the policy refuses: the server's set plus control characters. */
export function offendingCharacters(name, policy) {
  const found = [];
  for (const ch of Array.from(name)) {
    if ((policy.includes(ch) || CONTROL.test(ch)) && !found.includes(ch)) found.push(ch);
  }
  return found;
}

/**
 * A name as people may trust it: isolated from the text around it (<bdi>), each offending
 * character wrapped in <mark> and named for screen readers, and each direction control shown as
 * its code point rather than obeyed.
 */
export function markedName(name, characters = []) {
  const span = h('bdi', { className: 'name' });
  let plain = '';
  const mark = (title, text) => {
    if (plain) span.append(plain);
    plain = '';
    span.append(h('mark', { title }, text));
  };
  for (const ch of Array.from(name)) {
    if (characters.includes(ch)) mark(`Not allowed: ${describeCharacter(ch)}`, CONTROL.test(ch) ? '�' : ch);
    else if (DIRECTION.test(ch)) mark(`Direction control ${codePoint(ch)}`, codePoint(ch));
    else plain += ch;
  }
  if (plain) span.append(plain);
  return span;
}

/**
 * A handler that ignores a call while one for the same key runs (`keyOf`: by default one key), so
 * a double click or a second submit sends one request, also from a button redrawn meanwhile. The
 * control says it is busy with aria-disabled, which, unlike disabled, keeps the keyboard's focus.
 */
export function oneAtATime(act, keyOf = () => '') {
  const running = new Set();
  return async (event, ...args) => {
    const key = keyOf(event, ...args);
    if (running.has(key)) {
      event?.preventDefault?.();
      return undefined;
    }
    running.add(key);
    const control = event?.submitter ?? event?.currentTarget;
    control?.setAttribute?.('aria-disabled', 'true');
    try {
      return await act(event, ...args);
    } finally {
      running.delete(key);
      control?.removeAttribute?.('aria-disabled');
    }
  };
}

const SIZE_UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

export function formatSize(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${SIZE_UNITS[unit]}`;
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A <time> for an ISO instant, or the fallback text when there is none. */
export function time(iso, fallback = '—') {
  if (!iso) return h('span', { className: 'muted' }, fallback);
  return h('time', { datetime: iso }, DATE_TIME.format(new Date(iso)));
}
