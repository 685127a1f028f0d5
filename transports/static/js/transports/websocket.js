// WebSocket: one connection, JSON frames both ways. Sends are frames with a cid; the ack
// (or an error frame with that cid) settles them. After a close the client reconnects from
// its cursor and sends again whatever was not acknowledged: the cid keeps that harmless.

import { ApiError, stoppedError } from '../api.js';
import { TransportClient } from './base.js';
import { t } from '../text.js';

const EXPLAINED_CLOSES = new Set([1001, 1006, 1008, 1009, 1011, 1013]);

function closeReason(code) {
  return EXPLAINED_CLOSES.has(code) ? t(`close.${code}`) : t('close.other', { code });
}

export class WebSocketClient extends TransportClient {
  static transport = 'websocket';

  constructor(options) {
    super(options);
    this.pending = new Map(); // cid -> { frame, resolve, reject }, until acknowledged
  }

  open() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/ws?${this.query()}`);
    this.socket = socket;
    this.counters.requests += 1;
    socket.addEventListener('open', () => {
      if (socket !== this.socket) return;
      this.succeeded();
      this.setStatus('live', t('status.websocket_open'));
      for (const { frame } of this.pending.values()) socket.send(frame);
    });
    socket.addEventListener('message', (event) => {
      if (socket === this.socket && this.running) this.frame(JSON.parse(event.data));
    });
    socket.addEventListener('close', (event) => {
      if (socket === this.socket && this.running) this.closed(event);
    });
  }

  frame(frame) {
    switch (frame.type) {
      case 'message':
        this.deliver(frame.message);
        break;
      case 'ack':
        this.settle(frame.cid, (entry) => entry.resolve(frame.id));
        break;
      case 'gap':
        this.gap(frame.oldest);
        break;
      case 'error': {
        const error = new ApiError(frame.error, frame.detail); // no HTTP status: none was sent
        // Rate limiting: one token comes back every 1/20 s; half a second is plenty.
        if (error.code === 'rate_limited') error.retryAfter = 0.5;
        if (frame.cid && this.pending.has(frame.cid)) {
          this.settle(frame.cid, (entry) => entry.reject(error));
        } else {
          this.callbacks.onError(error, this.transport, { fatal: false });
        }
        break;
      }
      default:
        break; // joined / left: this client joins rooms over HTTP
    }
  }

  settle(cid, how) {
    const entry = this.pending.get(cid);
    if (!entry) return;
    this.pending.delete(cid);
    how(entry);
  }

  async closed(event) {
    this.socket = null;
    if (event.code === 1000) {
      // The server closes with 1000 only when the session ended (logout elsewhere, expiry).
      this.failed(new ApiError('unauthorized', t('error.session_ended_by_server'), { status: 401 }));
      return;
    }
    const why = closeReason(event.code);
    // A refused handshake looks like any lost connection; the second time, ask why.
    const alive = this.failures === 0 || (await this.sessionIsAlive());
    if (!this.running) return;
    if (!alive) {
      this.failed(new ApiError('unauthorized', t('error.session_gone')));
      return;
    }
    const error = new ApiError('network', t('error.websocket_reconnecting', { why, cursor: this.cursor }));
    // A consumer closed for falling behind may come straight back: it loses nothing retained.
    if (event.code === 1013) error.retryAfter = 0.2;
    const wait = this.failed(error);
    if (wait === null) return;
    await this.pause(wait);
    if (this.running && this.socket === null) this.open();
  }

  send(message) {
    if (!this.running) return Promise.reject(stoppedError());
    return new Promise((resolve, reject) => {
      const frame = JSON.stringify({ type: 'send', ...message });
      this.pending.set(message.cid, { frame, resolve, reject });
      this.counters.sent += 1;
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame);
    });
  }

  close() {
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'client switched transport');
    for (const { reject } of this.pending.values()) reject(stoppedError());
    this.pending.clear();
    super.close();
  }
}
