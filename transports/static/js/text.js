// What the pages say, in the page's language: the server hands every text to the page as a
// JSON block (base.html, from transports/page_text.py); `{name}` in a text is filled here.

const TEXT = JSON.parse(document.getElementById('script-text').textContent);

export function t(key, values = {}) {
  const text = TEXT[key];
  if (text === undefined) throw new Error(`No text for ${key}`);
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
