// The dashboard: /api/metrics once a second, as a table and as rates over time.

import { drawLines, perSecondBytes } from './chart.js';
import { $, Notices, el, formatBytes, formatCount } from './dom.js';
import { t } from './text.js';
import { TRANSPORTS, TRANSPORT_NAMES } from './transports/index.js';

const REFRESH_SECONDS = 1;
const WINDOW = 60; // samples kept for the charts (seconds)
const ROWS = [...TRANSPORT_NAMES, 'api'];
const LABELS = { api: t('dashboard.other') };

class Dashboard {
  constructor(root) {
    this.url = root.dataset.metricsUrl;
    this.notices = new Notices($('#notices'), { keep: 2 });
    this.previous = null; // { at, snapshot }
    this.history = Object.fromEntries(ROWS.map((name) => [name, { requests: [], bytes: [] }]));
    this.failing = false;
  }

  boot() {
    this.buildTable();
    this.tick();
    setInterval(() => this.tick(), REFRESH_SECONDS * 1000);
    addEventListener('resize', () => this.draw());
  }

  buildTable() {
    const cell = (name, field) => el('td', { dataset: { metric: `${name}.${field}` } }, '–');
    $('#metrics-rows').replaceChildren(
      ...ROWS.map((name) =>
        el(
          'tr',
          { class: `transport-${name}`, dataset: { transport: name } },
          el('th', { scope: 'row' }, el('span', { class: 'swatch' }), LABELS[name] ?? TRANSPORTS[name].label),
          ...['requests', 'requests_rate', 'open', 'bytes_in', 'bytes_out', 'bytes_rate', 'delivered', 'empty_polls'].map(
            (field) => cell(name, field),
          ),
        ),
      ),
    );
    $('#legend').replaceChildren(
      ...ROWS.map((name) =>
        el('li', { class: `transport-${name}` }, el('span', { class: 'swatch' }), LABELS[name] ?? TRANSPORTS[name].label),
      ),
    );
  }

  async tick() {
    let snapshot;
    try {
      const response = await fetch(this.url, { cache: 'no-store', credentials: 'omit' });
      if (!response.ok) throw new Error(t('dashboard.server_answered', { status: response.status }));
      snapshot = await response.json();
    } catch (error) {
      const problem = t('dashboard.cannot_read', { reason: error.message });
      this.status('failed', problem);
      if (!this.failing) this.notices.show(problem);
      this.failing = true;
      return;
    }
    this.failing = false;
    const at = performance.now() / 1000;
    this.update(snapshot, this.previous && { ...this.previous, elapsed: at - this.previous.at });
    this.previous = { at, snapshot };
    this.status('live', t('dashboard.updated', { time: new Date().toLocaleTimeString([], { hour12: false }) }));
  }

  update(snapshot, previous) {
    for (const name of ROWS) {
      const now = snapshot.transports[name];
      if (!now) continue;
      const before = previous?.snapshot.transports[name];
      const rate = (value) => (before ? Math.max(0, value / previous.elapsed) : null);
      const requestsRate = rate(now.requests - (before?.requests ?? 0));
      const bytesRate = rate(now.bytes_in + now.bytes_out - (before ? before.bytes_in + before.bytes_out : 0));
      this.set(name, 'requests', now.requests, formatCount);
      this.set(name, 'open', now.open, formatCount);
      this.set(name, 'bytes_in', now.bytes_in, formatBytes);
      this.set(name, 'bytes_out', now.bytes_out, formatBytes);
      this.set(name, 'delivered', now.delivered, formatCount);
      this.set(name, 'empty_polls', now.empty_polls, formatCount);
      this.set(name, 'requests_rate', requestsRate, (v) => v.toFixed(1));
      this.set(name, 'bytes_rate', bytesRate, perSecondBytes);
      if (requestsRate !== null) {
        this.remember(this.history[name].requests, requestsRate);
        this.remember(this.history[name].bytes, bytesRate);
      }
    }
    const process = snapshot.process;
    const seconds = process.cpu_seconds.toFixed(2);
    $('#process-cpu').textContent = previous
      ? t('dashboard.cpu_now', {
          seconds,
          percent: `${Math.round((100 * (process.cpu_seconds - previous.snapshot.process.cpu_seconds)) / previous.elapsed)} %`,
        })
      : t('dashboard.cpu', { seconds });
    $('#process-rss').textContent = formatBytes(process.rss_bytes);
    this.draw();
  }

  set(name, field, value, format) {
    const cell = document.querySelector(`[data-metric="${name}.${field}"]`);
    if (value === null) return;
    cell.dataset.value = String(value);
    cell.textContent = format(value);
  }

  remember(values, value) {
    values.push(value);
    if (values.length > WINDOW) values.shift();
  }

  draw() {
    $('#dashboard').dataset.samples = String(this.history.short_poll.requests.length);
    const colors = getComputedStyle(document.documentElement);
    const series = (kind) =>
      ROWS.map((name) => ({
        color: colors.getPropertyValue(`--t-${name}`).trim(),
        values: this.history[name][kind],
      }));
    drawLines($('#chart-requests'), series('requests'), { samples: WINDOW, format: (v) => v.toFixed(v < 10 ? 1 : 0) });
    drawLines($('#chart-bytes'), series('bytes'), { samples: WINDOW, format: perSecondBytes });
  }

  status(state, text) {
    const status = $('#dashboard-status');
    status.dataset.state = state;
    status.textContent = text;
  }
}

new Dashboard($('#dashboard')).boot();
