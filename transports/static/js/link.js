// One person's connection to the chat, over whichever transport is chosen now.
//
// Switching stops the current client and starts the next one at the cursor the old one
// reached, so nothing is lost; the clients drop ids at or below the cursor, so nothing is
// shown twice. Sends go one at a time, in the order they were made, each with a cid: a send
// the old client could not finish is sent again by the new one, and the server accepts it
// at most once.

import { createClient } from './transports/index.js';
import { sleep } from './dom.js';

const MAX_ATTEMPTS = 8;

function randomTag() {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Link {
  constructor({ api, transport, name, clientOptions = {}, onSwitch = () => {}, ...callbacks }) {
    this.api = api;
    this.transport = transport;
    this.clientOptions = clientOptions; // e.g. pollInterval for short polling
    this.callbacks = callbacks; // onMessage, onGap, onError, onStatus: passed to each client
    this.onSwitch = onSwitch;
    this.cidPrefix = `${name}-${randomTag()}`;
    this.sentCount = 0;
    this.queue = Promise.resolve();
    this.client = null;
  }

  get cursor() {
    return this.client ? this.client.cursor : null;
  }

  get counters() {
    return this.client.counters;
  }

  start(cursor) {
    this.client = createClient(this.transport, {
      api: this.api,
      ...this.clientOptions,
      ...this.callbacks,
    });
    this.client.start(cursor);
    this.onSwitch(this.transport, this.client);
  }

  switchTo(transport) {
    if (transport === this.transport && this.client?.running) return;
    const cursor = this.cursor;
    this.client?.stop();
    this.transport = transport;
    this.start(cursor);
  }

  stop() {
    this.client?.stop();
  }

  // Returns { cid, done }: the cid at once (to show the message as pending), and a promise
  // of its id once the server has accepted it. `pipelined`: over a WebSocket, the next send
  // may leave before this one is acknowledged (frames keep their order on one connection,
  // and unacknowledged ones are sent again in order after a reconnect); over HTTP, where
  // requests on different connections could overtake each other, it changes nothing.
  send(target, text, { pipelined = false } = {}) {
    this.sentCount += 1;
    const message = { ...target, text, cid: `${this.cidPrefix}-${this.sentCount}` };
    let handed;
    const left = new Promise((resolve) => {
      handed = resolve;
    });
    // Stamped when it leaves, not when it was queued behind earlier sends: the latency
    // readers compute is the transport's, not this page's queue.
    const done = this.queue.then(() => {
      const accepted = this.deliverSend({ ...message, ts: Date.now() / 1000 });
      handed();
      return accepted;
    });
    const overlap = pipelined && this.transport === 'websocket';
    this.queue = overlap ? left : done.catch(() => {});
    return { cid: message.cid, done };
  }

  async deliverSend(message) {
    for (let attempt = 1; ; attempt += 1) {
      const client = this.client;
      try {
        return await client.send(message);
      } catch (error) {
        const switched = error.code === 'stopped' && this.client !== client;
        if (!error.retryable || attempt >= MAX_ATTEMPTS) throw error;
        if (error.code === 'stopped' && !switched) throw error; // stopped for good
        if (!switched) await sleep(error.retryAfter ?? Math.min(5, 0.25 * 2 ** attempt));
      }
    }
  }
}
