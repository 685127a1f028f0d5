// The four transports, in the order the lesson tells them: each one a client class with the
// interface described in base.js, plus what a page needs to present it.

import { LongPollClient, ShortPollClient } from './polling.js';
import { SseClient } from './sse.js';
import { WebSocketClient } from './websocket.js';
import { t } from '../text.js';

// Each transport's name in words comes from the server (chat_core's Transport.label, through
// base.html, in the page's language), so that the pages, the console and the report name
// them alike.
const LABELS = JSON.parse(document.documentElement.dataset.transportLabels);
const label = (transport) => LABELS[transport].charAt(0).toUpperCase() + LABELS[transport].slice(1);

export const TRANSPORTS = {
  short_poll: {
    Client: ShortPollClient,
    label: label('short_poll'),
    short: t('transport.short_poll.short'),
    how: t('transport.short_poll.how'),
  },
  long_poll: {
    Client: LongPollClient,
    label: label('long_poll'),
    short: t('transport.long_poll.short'),
    how: t('transport.long_poll.how'),
  },
  sse: {
    Client: SseClient,
    label: label('sse'),
    short: t('transport.sse.short'),
    how: t('transport.sse.how'),
  },
  websocket: {
    Client: WebSocketClient,
    label: label('websocket'),
    short: t('transport.websocket.short'),
    how: t('transport.websocket.how'),
  },
};

export const TRANSPORT_NAMES = Object.keys(TRANSPORTS);

export function createClient(transport, options) {
  const entry = TRANSPORTS[transport];
  if (!entry) throw new Error(`Unknown transport ${transport}`);
  return new entry.Client(options);
}
