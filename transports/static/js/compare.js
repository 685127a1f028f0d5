// The compare page: four users in one page, one per transport, all in the same room, each
// with live counters of what its transport costs, and beside each the theory for the network
// the page came through (the server's own port, or an emulated link: see networks.py).

import { Api } from './api.js';
import { $, Notices, el, formatBytes, formatCount, sleep } from './dom.js';
import { Link } from './link.js';
import { t } from './text.js';
import { TRANSPORTS, TRANSPORT_NAMES } from './transports/index.js';

const WIRE_REFRESH_SECONDS = 1;
const LOG_LENGTH = 60;
const BURST = 20;
const ABBREVIATION = { short_poll: 'sp', long_poll: 'lp', sse: 'sse', websocket: 'ws' };
const RTT_PROBES = 5;

const figure = (value) => (value < 10 ? value.toFixed(1) : String(Math.round(value)));

// The latency each pane should show, from the sender's timestamp, for round trip `rtt` and
// short-poll interval `interval` (both ms); sender and receivers are behind the same link.
// An estimate: it leaves out the server's and the browser's own time.
function theory(transport, rtt, interval) {
  const half = rtt / 2;
  const round = (value) => Math.round(value);
  if (transport === 'short_poll') {
    const cycle = interval + rtt; // a poll reaches the server once per interval + round trip
    return t('theory.short_poll', {
      half: round(half),
      cycle: round(cycle),
      wait: round(cycle / 2),
      mean: round(half + cycle / 2 + half),
      most: round(half + cycle + half),
    });
  }
  if (transport === 'long_poll') {
    return t('theory.long_poll', { half: round(half), one: round(rtt), most: round(half + 3 * half) });
  }
  return t('theory.stream', { half: round(half), one: round(rtt) });
}

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
    this.latencies = { last: null, sum: 0, count: 0, max: null };
    this.wire = null;
    this.baseline = { requests: 0, received: 0, bytes_in: 0, bytes_out: 0 };
    this.root = this.build();
  }

  build() {
    const info = TRANSPORTS[this.transport];
    const stat = (key, label) =>
      el('div', { class: `stat stat-${key}` }, el('dt', {}, label), el('dd', { dataset: { counter: key } }, '–'));
    this.log = el('ol', { class: 'log', 'aria-label': t('compare.messages_of', { transport: info.label }) });
    this.status = el('span', { class: 'status', dataset: { state: 'connecting' } }, t('state.connecting'));
    this.who = el('strong', {}, '…');
    this.theory = el('p', { class: 'theory' });
    return el(
      'article',
      { class: `pane transport-${this.transport}`, dataset: { transport: this.transport } },
      el('header', { class: 'pane-head' }, el('h2', {}, info.short), this.status),
      el('p', { class: 'how' }, info.how, ' ', el('span', { class: 'who' }, t('compare.as'), ' ', this.who)),
      // the figures first, where a projected page shows them without scrolling
      el(
        'dl',
        { class: 'stats' },
        ...['requests', 'received', 'bytes_up', 'bytes_down'].map((key) => stat(key, t(`compare.stat.${key}`))),
        el('div', { class: 'stat-caption' }, t('compare.stat.latency')),
        ...['latency_last', 'latency_mean', 'latency_max'].map((key) => stat(key, t(`compare.stat.${key}`))),
      ),
      this.theory,
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
      onGap: (oldest) => this.notices.show(t('compare.gap', { transport: this.label, oldest }), 'warning'),
      onError: (error) =>
        this.notices.show(t('notice.about', { transport: this.label, detail: error.detail }), 'warning'),
      onStatus: ({ state, detail }) => {
        this.status.dataset.state = state;
        this.root.dataset.status = state;
        this.status.textContent = t(`state.${state}`); // the detail goes to the tooltip and the notices
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
      this.latencies.max = Math.max(this.latencies.max ?? 0, latency);
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
      this.show('bytes_up', null, t('compare.not_available'));
      this.show('bytes_down', null, t('compare.not_available'));
      if (error.sessionEnded) {
        this.notices.show(t('notice.about', { transport: this.label, detail: error.detail }), 'error');
      }
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
    const { last, sum, count, max } = this.latencies;
    this.show('latency_last', last, figure); // in ms, as the caption says
    this.show('latency_mean', count ? sum / count : null, figure);
    this.show('latency_max', max, figure);
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
    this.latencies = { last: null, sum: 0, count: 0, max: null };
  }

  showTheory(rtt, interval) {
    this.theory.textContent = theory(this.transport, rtt, interval);
  }

  send(text, options) {
    return this.link.send({ room: this.room }, text, options).done;
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
    this.rtt = Number(root.dataset.rttMs); // the round trip the network adds, ms
    this.frameGap = Number(root.dataset.frameGapMs); // between a WebSocket burst's frames
    this.interval = 1;
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
    this.showTheory();
    this.measureRoundTrip();
    addEventListener('pagehide', () => this.panes.forEach((pane) => pane.close()));
    const results = await Promise.allSettled([...this.panes.values()].map((p) => p.connect()));
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        const label = TRANSPORTS[TRANSPORT_NAMES[index]].label;
        this.notices.show(t('compare.could_not_start', { transport: label, detail: result.reason.detail ?? result.reason }));
      }
    });
    this.refreshWire();
    setInterval(() => this.refreshWire(), WIRE_REFRESH_SECONDS * 1000);
    setInterval(() => this.panes.forEach((pane) => pane.render()), 250);
  }

  // One pane after another: four requests at once would hold four of the browser's six
  // connections to this origin (two more are held by long polling and SSE), and a send
  // queued behind them would add their round trip to its latency.
  async refreshWire() {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      for (const pane of this.panes.values()) await pane.refreshWire();
    } finally {
      this.refreshing = false;
    }
  }

  showTheory() {
    this.panes.forEach((pane) => pane.showTheory(this.rtt, this.interval * 1000));
  }

  // What the network costs, as this page sees it: the fastest of a few requests one after
  // another (the first may open a connection, which costs one more round trip).
  async measureRoundTrip() {
    const shown = $('#network-measured');
    shown.textContent = t('compare.measuring');
    let fastest = Infinity;
    for (let probe = 0; probe < RTT_PROBES; probe += 1) {
      const started = performance.now();
      try {
        await fetch('/healthz', { cache: 'no-store', credentials: 'omit' });
      } catch {
        shown.textContent = '';
        return;
      }
      fastest = Math.min(fastest, performance.now() - started);
    }
    shown.dataset.value = String(fastest);
    shown.textContent = t('compare.measured', { ms: figure(fastest), count: RTT_PROBES });
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
      if (!valid()) return;
      this.interval = Number(interval.value);
      this.panes.get('short_poll').pollInterval = this.interval;
      this.showTheory();
    });
    interval.addEventListener('change', () => {
      if (!valid()) this.notices.show(t('compare.bad_interval'));
    });
    $('#compare-reset').addEventListener('click', () => {
      this.panes.forEach((pane) => pane.resetCounters());
    });
  }

  // Over HTTP back to back: the link sends them one after another, in order, each once the
  // one before was accepted (a round trip each). Over the WebSocket one frame every
  // `frameGap` ms without waiting for acknowledgements: the server's sustained send rate, so
  // that none is refused for going too fast (a refused one, sent again, would come out of
  // order). Bursts never overlap: a second press waits for the first to be sent.
  burst() {
    this.bursts += 1;
    const number = this.bursts;
    const pane = this.panes.get(this.sender);
    const text = (i) =>
      t('compare.burst_text', { burst: number, number: String(i).padStart(2, '0'), total: BURST });
    this.bursting = (this.bursting ?? Promise.resolve()).then(async () => {
      if (pane.transport !== 'websocket') {
        for (let i = 1; i <= BURST; i += 1) this.report(pane.send(text(i)));
        return;
      }
      for (let i = 1; i <= BURST; i += 1) {
        this.report(pane.send(text(i), { pipelined: true }));
        if (i < BURST) await sleep(this.frameGap / 1000);
      }
    });
  }

  report(promise) {
    promise.catch((error) => this.notices.show(t('compare.send_failed', { detail: error.detail ?? error })));
  }
}

new ComparePage($('#compare')).boot();
