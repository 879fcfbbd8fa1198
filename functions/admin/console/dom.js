// Building the page. Every piece of text, customer's or ours, goes in as a text node or an attribute value:
// nothing here (or anywhere in the console) parses a string as HTML, so `<img src=x onerror=...>` written
// by a customer is shown as those characters. tests/unit/test_console_files.py keeps it that way.

const SVG_NS = 'http://www.w3.org/2000/svg';

function appendChildren(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function setProps(element, props) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') element.setAttribute('class', value);
    else if (name === 'dataset') {
      for (const [key, item] of Object.entries(value)) {
        if (item !== null && item !== undefined) element.dataset[key] = String(item);
      }
    } else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'value' && 'value' in element) element.value = value;
    else if (name === 'checked' || name === 'disabled' || name === 'hidden' || name === 'selected') {
      element[name] = Boolean(value);
    } else element.setAttribute(name, value === true ? '' : String(value));
  }
}

/** An HTML element: h('p', {class: 'x'}, 'text', h('b', {}, 'bold')). Strings become text nodes. */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  setProps(element, props);
  appendChildren(element, children);
  return element;
}

/** An SVG element, same rules as h(). */
export function s(tag, props, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'dataset') {
      for (const [key, item] of Object.entries(value)) element.dataset[key] = String(item);
    } else element.setAttribute(name, String(value));
  }
  appendChildren(element, children);
  return element;
}

/** Replace an element's children (strings become text nodes). */
export function fill(element, ...children) {
  element.replaceChildren();
  appendChildren(element, children);
  return element;
}

/** A customer id with most of it hidden: 584125550101 → 584•••••••01. */
export function mask(value) {
  if (value === null || value === undefined || value === '') return '—';
  const text = String(value);
  if (text.length <= 4) return '•'.repeat(text.length);
  const head = text.length >= 10 ? 3 : 1;
  return text.slice(0, head) + '•'.repeat(Math.min(6, Math.max(3, text.length - head - 2))) + text.slice(-2);
}

/** Say something to screen readers (and show it briefly) without moving the focus. */
export function announce(message, kind = 'info') {
  const region = document.getElementById('status');
  if (!region) return;
  region.dataset.kind = kind;
  region.textContent = '';
  // A change after a tick is announced even when the same words repeat.
  setTimeout(() => { region.textContent = message; }, 30);
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => { region.textContent = ''; }, 8000);
}

/** Calls `task` now and every `ms` milliseconds while the page is visible; stop() ends it. */
export class Poller {
  constructor(task, ms) {
    this.task = task;
    this.ms = ms;
    this.stopped = false;
    this.timer = null;
    this.onVisible = () => { if (!document.hidden) this.kick(); };
    document.addEventListener('visibilitychange', this.onVisible);
  }

  async run() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    try {
      if (!document.hidden) await this.task();
    } catch (error) {
      if (!this.stopped) console.warn('refresh failed', error);
    }
    if (!this.stopped) this.timer = setTimeout(() => this.run(), this.ms);
  }

  kick() { this.run(); }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisible);
  }
}

/**
 * Ask before something that cannot be undone, in the page's own modal <dialog> (focus kept inside,
 * Esc cancels, the safe answer has the focus). Resolves true only for the confirming button.
 */
export function confirmDialog(message, confirmLabel, cancelLabel) {
  return new Promise((resolve) => {
    const text = h('p', { id: 'confirm-text' }, message);
    const yes = h('button', { type: 'button', class: 'danger', id: 'confirm-yes' }, confirmLabel);
    const no = h('button', { type: 'button', id: 'confirm-no' }, cancelLabel);
    const dialog = h('dialog', { class: 'confirm', id: 'confirm-dialog', 'aria-labelledby': 'confirm-text' },
      text, h('div', { class: 'actions' }, no, yes));
    const opener = document.activeElement;
    let answered = false;
    const answer = (value) => {
      if (answered) return;
      answered = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(value);
    };
    yes.addEventListener('click', () => answer(true));
    no.addEventListener('click', () => answer(false));
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); answer(false); });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
