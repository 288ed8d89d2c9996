import { h, replaceChildren } from '../dom.js';

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
