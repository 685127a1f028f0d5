// What the pages say, in the page's language: the server hands every text to the page as a
// JSON block (base.html, from transports/page_text.py); `{name}` in a text is filled here.

const TEXT = JSON.parse(document.getElementById('script-text').textContent);

// A missing text or value is a mistake in a script: it fails loudly (the browser tests fail on
// any uncaught error in a page), never shows a "{name}" to the class.
export function t(key, values = {}) {
  const text = TEXT[key];
  if (text === undefined) throw new Error(`No text for ${key}`);
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in values)) throw new Error(`The text ${key} needs a value for {${name}}`);
    return String(values[name]);
  });
}
