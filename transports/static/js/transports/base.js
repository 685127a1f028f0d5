// What every transport client shares: the interface, the cursor, de-duplication, status,
// and sending over HTTP (which three of the four use).
//
//   const client = new SomeClient({ api, onMessage, onGap, onError, onStatus, pollInterval });
//   client.start(cursor);  // cursor: the last message id already seen (null: from now on)
//   await client.send({ room | to, text, cid, ts });  // resolves to the message id
//   client.stop();         // no callback fires after this
//   client.cursor, client.counters  // { requests, received, sent, empty }

import { ApiError, stoppedError } from '../api.js';
import { t } from '../text.js';

const noop = () => {};

export class TransportClient {
  // Subclasses set: static transport ('short_poll' ...), and open() / close().
  constructor({ api, onMessage = noop, onGap = noop, onError = noop, onStatus = noop } = {}) {
    this.api = api;
    this.callbacks = { onMessage, onGap, onError, onStatus };
    this.cursor = null;
    this.running = false;
    this.failures = 0; // consecutive failed attempts, for the back-off
    this.counters = { requests: 0, received: 0, sent: 0, empty: 0 };
    this.status = { state: 'stopped', detail: '' };
  }

  get transport() {
    return this.constructor.transport;
  }

  start(cursor = null) {
    if (this.running) throw new Error(`${this.transport} client already started`);
    this.cursor = cursor;
    this.running = true;
    this.setStatus('connecting', t('status.connecting'));
    this.open();
  }

  stop() {
    if (!this.running) return;
    this.running = false;
    this.close();
    this.setStatus('stopped', t('status.stopped'));
  }

  async send(message) {
    if (!this.running) throw stoppedError();
    this.counters.requests += 1;
    this.counters.sent += 1;
    const body = await this.call('POST', '/api/messages', { body: message });
    return body.id;
  }

  // An API request charged to this transport.
  call(method, path, options = {}) {
    return this.api.request(method, path, { ...options, transport: this.transport });
  }

  // The one place messages come in: ids only grow within a stream, so anything at or below
  // the cursor was already shown (after a switch, a reconnect or a retried poll).
  deliver(message) {
    if (!this.running) return;
    if (this.cursor !== null && message.id <= this.cursor) return;
    this.cursor = message.id;
    this.counters.received += 1;
    this.callbacks.onMessage(message, this.transport);
  }

  gap(oldest) {
    if (this.running) this.callbacks.onGap(oldest, this.transport);
  }

  setStatus(state, detail = '') {
    this.status = { state, detail };
    this.callbacks.onStatus(this.status, this.transport);
  }

  // A failed attempt: say so, and either give up (the session is gone) or try again later.
  // Returns the seconds to wait before the next attempt, or null when the client stopped.
  failed(error) {
    const problem =
      error instanceof ApiError ? error : new ApiError('network', String(error?.message ?? error));
    if (problem.sessionEnded) {
      this.running = false;
      this.close();
      this.setStatus('failed', t('status.session_ended'));
      this.callbacks.onError(problem, this.transport, { fatal: true });
      return null;
    }
    this.failures += 1;
    const wait = problem.retryAfter ?? Math.min(10, 0.5 * 2 ** (this.failures - 1));
    this.setStatus('retrying', t('status.retry', { detail: problem.detail, seconds: wait.toFixed(1) }));
    this.callbacks.onError(problem, this.transport, { fatal: false });
    return wait;
  }

  succeeded() {
    this.failures = 0;
  }

  // A pause that ends early when the client is stopped (so stop() never waits on a timer).
  pause(seconds) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      const previous = this.wakeUp;
      this.wakeUp = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      previous?.();
    });
  }

  close() {
    this.wakeUp?.();
  }

  // When a stream is refused, the browser does not say why: ask whether the session lives.
  async sessionIsAlive() {
    try {
      await this.api.request('GET', '/api/session'); // not charged to any transport
      return true;
    } catch (error) {
      return !(error instanceof ApiError && error.sessionEnded);
    }
  }

  query(extra = {}) {
    const params = new URLSearchParams(this.api.authParams());
    if (this.cursor !== null) params.set('since', String(this.cursor));
    for (const [key, value] of Object.entries(extra)) params.set(key, String(value));
    return params.toString();
  }
}
