// Server-Sent Events: one HTTP response that never ends. The browser reconnects by itself
// after a drop and resumes with Last-Event-ID; only a refused stream needs our help.

import { ApiError } from '../api.js';
import { TransportClient } from './base.js';
import { t } from '../text.js';

export class SseClient extends TransportClient {
  static transport = 'sse';

  open() {
    const source = new EventSource(`/api/stream?${this.query()}`);
    this.source = source;
    this.counters.requests += 1;
    source.addEventListener('open', () => {
      if (source !== this.source) return;
      this.succeeded();
      this.setStatus('live', t('status.sse_open'));
    });
    source.addEventListener('message', (event) => {
      if (source === this.source) this.deliver(JSON.parse(event.data));
    });
    source.addEventListener('gap', (event) => {
      if (source === this.source) this.gap(JSON.parse(event.data).oldest);
    });
    source.addEventListener('error', () => {
      if (source === this.source && this.running) this.dropped(source);
    });
  }

  async dropped(source) {
    if (source.readyState === EventSource.CONNECTING) {
      // The browser is already reconnecting (with Last-Event-ID): count that request.
      this.counters.requests += 1;
      this.failures += 1;
      const drop = new ApiError('network', t('error.sse_dropped'));
      this.setStatus('retrying', drop.detail);
      this.callbacks.onError(drop, this.transport, { fatal: false });
      return;
    }
    // CLOSED: the server refused the stream (401, 403, 5xx). Find out whether it is for good.
    source.close();
    this.source = null;
    const alive = await this.sessionIsAlive();
    if (!this.running) return;
    const refusal = alive
      ? new ApiError('network', t('error.sse_refused'))
      : new ApiError('unauthorized', t('error.session_gone'), { status: 401 });
    const wait = this.failed(refusal);
    if (wait === null) return;
    await this.pause(wait);
    if (this.running && this.source === null) this.open();
  }

  close() {
    this.source?.close();
    this.source = null;
    super.close();
  }
}
