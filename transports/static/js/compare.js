// The compare page: four users in one page, one per transport, all in the same room, each
// with live counters of what its transport costs.

import { Api } from './api.js';
import { $, Notices, el, formatBytes, formatCount } from './dom.js';
import { Link } from './link.js';
import { TRANSPORTS, TRANSPORT_NAMES } from './transports/index.js';

const WIRE_REFRESH_SECONDS = 1;
const LOG_LENGTH = 60;
const BURST = 20;
const ABBREVIATION = { short_poll: 'sp', long_poll: 'lp', sse: 'sse', websocket: 'ws' };

function randomTag() {
  return Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
}

class Pane {
  constructor(transport, room, notices) {
    this.transport = transport;
    this.room = room;
    this.notices = notices;
    this.latencies = { last: null, sum: 0, count: 0 };
    this.wire = null;
    this.baseline = { requests: 0, received: 0, bytes_in: 0, bytes_out: 0 };
    this.root = this.build();
  }

  build() {
    const info = TRANSPORTS[this.transport];
    const stat = (key, label) =>
      el('div', { class: `stat stat-${key}` }, el('dt', {}, label), el('dd', { dataset: { counter: key } }, '–'));
    this.log = el('ol', { class: 'log', 'aria-label': `${info.label} messages` });
    this.status = el('span', { class: 'status', dataset: { state: 'connecting' } }, 'connecting…');
    this.who = el('strong', {}, '…');
    return el(
      'article',
      { class: `pane transport-${this.transport}`, dataset: { transport: this.transport } },
      el('header', { class: 'pane-head' }, el('h2', {}, info.short), this.status),
      el('p', { class: 'how' }, info.how),
      el('p', { class: 'who' }, 'as ', this.who),
      el(
        'dl',
        { class: 'stats' },
        stat('requests', 'requests'),
        stat('received', 'messages in'),
        stat('bytes_up', 'bytes up'),
        stat('bytes_down', 'bytes down'),
        stat('latency_last', 'latency, last'),
        stat('latency_mean', 'latency, mean'),
      ),
      this.log,
    );
  }

  async connect() {
    const { api, name, cursor } = await Api.loginWithToken(
      `${ABBREVIATION[this.transport]}-${randomTag()}`,
      { transport: this.transport },
    );
    this.api = api;
    this.name = name;
    this.who.textContent = name;
    this.root.dataset.name = name;
    this.link = new Link({
      api,
      name,
      transport: this.transport,
      clientOptions: { pollInterval: 1 },
      onMessage: (message) => this.received(message),
      onGap: (oldest) => this.notices.show(`${this.label}: messages dropped; resuming at #${oldest}.`, 'warning'),
      onError: (error) => this.notices.show(`${this.label}: ${error.detail}`, 'warning'),
      onStatus: ({ state, detail }) => {
        this.status.dataset.state = state;
        this.root.dataset.status = state;
        this.status.textContent = state; // the detail goes to the tooltip and the notices
        this.status.title = detail;
      },
    });
    await api.request('POST', `/api/rooms/${encodeURIComponent(this.room)}/join`, {
      transport: this.transport,
    });
    this.link.start(cursor);
  }

  get label() {
    return TRANSPORTS[this.transport].label;
  }

  set pollInterval(seconds) {
    if (this.link?.client) this.link.client.pollInterval = seconds;
  }

  received(message) {
    if (typeof message.ts === 'number') {
      const latency = Math.max(0, Date.now() - message.ts * 1000);
      this.latencies.last = latency;
      this.latencies.sum += latency;
      this.latencies.count += 1;
    }
    this.log.append(
      el(
        'li',
        { class: 'log-line', dataset: { id: message.id } },
        el('span', { class: 'from' }, message.from),
        el('span', { class: 'text' }, message.text),
      ),
    );
    while (this.log.children.length > LOG_LENGTH) this.log.firstElementChild.remove();
    this.log.scrollTop = this.log.scrollHeight;
  }

  // Not charged to any transport (no X-Chatlab-Transport header), and the server does not
  // charge it to the session either: watching must not change what is watched.
  async refreshWire() {
    if (!this.api) return;
    try {
      this.wire = (await this.api.request('GET', '/api/session')).wire;
      this.wireRefreshes = (this.wireRefreshes ?? 0) + 1;
      this.root.dataset.wireRefreshes = String(this.wireRefreshes); // lets a test wait for one
    } catch (error) {
      this.show('bytes_up', null, 'n/a');
      this.show('bytes_down', null, 'n/a');
      if (error.sessionEnded) this.notices.show(`${this.label}: ${error.detail}`, 'error');
    }
  }

  render() {
    if (!this.link?.client) return;
    const counters = this.link.client.counters;
    this.show('requests', counters.requests - this.baseline.requests, formatCount);
    this.show('received', counters.received - this.baseline.received, formatCount);
    if (this.wire) {
      this.show('bytes_up', this.wire.bytes_in - this.baseline.bytes_in, formatBytes);
      this.show('bytes_down', this.wire.bytes_out - this.baseline.bytes_out, formatBytes);
    }
    const { last, sum, count } = this.latencies;
    const ms = (value) => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
    this.show('latency_last', last, ms);
    this.show('latency_mean', count ? sum / count : null, ms);
  }

  show(key, value, format) {
    const cell = this.root.querySelector(`[data-counter="${key}"]`);
    if (value === null) {
      cell.textContent = typeof format === 'string' ? format : '–';
      delete cell.dataset.value;
      return;
    }
    cell.dataset.value = String(value);
    cell.textContent = format(value);
  }

  resetCounters() {
    const counters = this.link?.client?.counters;
    if (!counters) return;
    this.baseline = {
      requests: counters.requests,
      received: counters.received,
      bytes_in: this.wire?.bytes_in ?? 0,
      bytes_out: this.wire?.bytes_out ?? 0,
    };
    this.latencies = { last: null, sum: 0, count: 0 };
  }

  send(text) {
    return this.link.send({ room: this.room }, text).done;
  }

  close() {
    this.link?.stop();
    // keepalive: the request outlives the page, so the names are freed at once.
    this.api?.request('DELETE', '/api/session', { keepalive: true }).catch(() => {});
  }
}

class ComparePage {
  constructor(root) {
    this.room = root.dataset.room || `cmp-${randomTag()}`;
    this.notices = new Notices($('#notices'));
    this.panes = new Map(TRANSPORT_NAMES.map((t) => [t, new Pane(t, this.room, this.notices)]));
    this.sender = 'short_poll';
    this.bursts = 0;
  }

  async boot() {
    $('#compare-room').textContent = `#${this.room}`;
    $('#panes').append(...[...this.panes.values()].map((pane) => pane.root));
    this.buildSenderChoice();
    this.wireControls();
    addEventListener('pagehide', () => this.panes.forEach((pane) => pane.close()));
    const results = await Promise.allSettled([...this.panes.values()].map((p) => p.connect()));
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        const label = TRANSPORTS[TRANSPORT_NAMES[index]].label;
        this.notices.show(`${label}: could not start: ${result.reason.detail ?? result.reason}`);
      }
    });
    const refreshWire = () => this.panes.forEach((pane) => pane.refreshWire());
    refreshWire();
    setInterval(refreshWire, WIRE_REFRESH_SECONDS * 1000);
    setInterval(() => this.panes.forEach((pane) => pane.render()), 250);
  }

  buildSenderChoice() {
    const group = $('#sender-choice');
    for (const transport of TRANSPORT_NAMES) {
      group.append(
        el(
          'button',
          {
            type: 'button',
            role: 'radio',
            class: `switch-option transport-${transport}`,
            dataset: { transport },
            'aria-checked': String(transport === this.sender),
            onclick: () => {
              this.sender = transport;
              for (const button of group.querySelectorAll('button')) {
                button.setAttribute('aria-checked', String(button.dataset.transport === transport));
              }
            },
          },
          TRANSPORTS[transport].short,
        ),
      );
    }
  }

  wireControls() {
    $('#compare-controls').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('#compare-text');
      if (!input.value.trim()) return;
      this.report(this.panes.get(this.sender).send(input.value));
      input.value = '';
    });
    $('#compare-burst').addEventListener('click', () => this.burst());
    const interval = $('#poll-interval');
    const valid = () => Number(interval.value) >= 0.25 && Number(interval.value) <= 10;
    interval.addEventListener('input', () => {
      if (valid()) this.panes.get('short_poll').pollInterval = Number(interval.value);
    });
    interval.addEventListener('change', () => {
      if (!valid()) this.notices.show('The poll interval must be between 0.25 and 10 seconds.');
    });
    $('#compare-reset').addEventListener('click', () => {
      this.panes.forEach((pane) => pane.resetCounters());
    });
  }

  // Back to back: the link sends them one after another, in order, as fast as each is
  // accepted.
  burst() {
    this.bursts += 1;
    const pane = this.panes.get(this.sender);
    for (let i = 1; i <= BURST; i += 1) {
      const number = String(i).padStart(2, '0');
      this.report(pane.send(`burst ${this.bursts} · ${number}/${BURST}`));
    }
  }

  report(promise) {
    promise.catch((error) => this.notices.show(`Send failed: ${error.detail ?? error}`));
  }
}

new ComparePage($('#compare')).boot();
