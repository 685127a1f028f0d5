// Short and long polling: the same request loop; only the URL and the pause differ.

import { TransportClient } from './base.js';
import { t } from '../text.js';

class PollingClient extends TransportClient {
  open() {
    this.aborter = new AbortController();
    this.loop();
  }

  close() {
    this.aborter?.abort();
    super.close();
  }

  async loop() {
    const aborter = this.aborter;
    while (this.running && !aborter.signal.aborted) {
      let answer;
      try {
        this.counters.requests += 1;
        answer = await this.call('GET', `${this.path}?${this.query(this.extraParams())}`, {
          signal: aborter.signal,
        });
      } catch (error) {
        if (!this.running || error.name === 'AbortError') return;
        const wait = this.failed(error);
        if (wait === null) return;
        await this.pause(wait);
        continue;
      }
      if (!this.running) return;
      this.succeeded();
      this.take(answer);
      await this.afterAnswer(answer);
    }
  }

  take(answer) {
    if (answer.gap) this.gap(answer.oldest);
    if (answer.messages.length === 0) this.counters.empty += 1;
    for (const message of answer.messages) this.deliver(message);
    // An answer without messages still carries the cursor ("from now on" resolved to an id).
    if (this.cursor === null || answer.cursor > this.cursor) this.cursor = answer.cursor;
  }

  extraParams() {
    return {};
  }
}

export class ShortPollClient extends PollingClient {
  static transport = 'short_poll';
  path = '/api/poll';

  constructor({ pollInterval = 1, ...options } = {}) {
    super(options);
    this.pollInterval = pollInterval; // seconds between the end of one poll and the next ask
  }

  async afterAnswer(answer) {
    const empty = answer.messages.length === 0;
    this.setStatus(
      'live',
      empty ? t('status.short_poll_empty', { seconds: this.pollInterval }) : t('status.short_poll_news'),
    );
    await this.pause(this.pollInterval);
  }
}

export class LongPollClient extends PollingClient {
  static transport = 'long_poll';
  path = '/api/longpoll';

  constructor({ longPollTimeout = 25, ...options } = {}) {
    super(options);
    this.longPollTimeout = longPollTimeout;
  }

  extraParams() {
    this.setStatus('live', t('status.long_poll_waiting', { seconds: this.longPollTimeout }));
    return { timeout: this.longPollTimeout };
  }

  async afterAnswer() {} // ask again at once: the server holds the request until news comes
}
