// Building the page. Every string a user typed goes in as a text node: never as HTML.

import { t } from './text.js';

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`The page has no ${selector}`);
  return found;
}

export function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour12: false });
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatCount(value) {
  return Math.round(value).toLocaleString('en-US');
}

// Shows errors where a person will see them; the newest stays on top, old ones fade out.
export class Notices {
  constructor(container, { keep = 4 } = {}) {
    this.container = container;
    this.keep = keep;
  }

  show(text, kind = 'error') {
    const notice = el(
      'li',
      { class: `notice notice-${kind}` },
      el('span', { class: 'notice-text' }, text),
      el('button', { type: 'button', class: 'notice-close', 'aria-label': t('notice.dismiss') }, '×'),
    );
    notice.querySelector('button').addEventListener('click', () => notice.remove());
    this.container.prepend(notice);
    while (this.container.children.length > this.keep) this.container.lastElementChild.remove();
  }
}

export function sleep(seconds) {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
