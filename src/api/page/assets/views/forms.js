import { ApiFailure } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { announce } from '../notices.js';

/** The place beside a field where its error is shown (and read: the field points to it). */
export function fieldError(id) {
  return h('p', { id, className: 'field-error', hidden: true });
}

/** Shows `text` beside the field, marks the field invalid and puts the cursor in it. */
export function setFieldError(input, error, text) {
  replaceChildren(error, text);
  error.hidden = false;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}

export function clearFieldError(input, error) {
  replaceChildren(error);
  error.hidden = true;
  input.removeAttribute('aria-invalid');
}

/**
 * A modal confirmation of a destructive action: resolves true for `action`, false for Cancel (or
 * Escape), which changes nothing and has the focus first.
 */
export function confirmAction({ id, title, text, action }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-text`, className: 'card' },
      h('h2', { id: `${id}-title` }, title),
      h('p', { id: `${id}-text` }, text),
      h('div', { className: 'actions' },
        h('button', { type: 'button', className: 'danger', onclick: () => dialog.close('confirm') }, action),
        h('button', { type: 'button', className: 'secondary', autofocus: true, onclick: () => dialog.close('cancel') }, 'Cancel')));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Runs an admin's action and says in `feedback`, and aloud, that it was done or why not. */
export async function actWithFeedback(feedback, act, doneText) {
  replaceChildren(feedback);
  try {
    await act();
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    replaceChildren(feedback, h('p', { className: 'field-error', role: 'alert' }, err.message));
    announce(err.message);
    return false;
  }
  replaceChildren(feedback, h('p', { className: 'notice success' }, doneText));
  announce(doneText);
  return true;
}
