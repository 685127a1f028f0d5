// The four transports, in the order the lesson tells them: each one a client class with the
// interface described in base.js, plus what a page needs to present it.

import { LongPollClient, ShortPollClient } from './polling.js';
import { SseClient } from './sse.js';
import { WebSocketClient } from './websocket.js';

// Each transport's name in words comes from the server (chat_core's Transport.label, through
// base.html), so that the pages, the console and the report name them alike.
const LABELS = JSON.parse(document.documentElement.dataset.transportLabels);
const label = (transport) => LABELS[transport].charAt(0).toUpperCase() + LABELS[transport].slice(1);

export const TRANSPORTS = {
  short_poll: {
    Client: ShortPollClient,
    label: label('short_poll'),
    short: 'Short poll',
    how: 'Asks the server every interval: "anything new?", usually to hear "no".',
  },
  long_poll: {
    Client: LongPollClient,
    label: label('long_poll'),
    short: 'Long poll',
    how: 'Asks once; the server holds the answer until there is news (or 25 s pass).',
  },
  sse: {
    Client: SseClient,
    label: label('sse'),
    short: 'SSE',
    how: 'One HTTP response that never ends: the server writes each message into it.',
  },
  websocket: {
    Client: WebSocketClient,
    label: label('websocket'),
    short: 'WebSocket',
    how: 'One connection, both directions: messages and sends are small frames.',
  },
};

export const TRANSPORT_NAMES = Object.keys(TRANSPORTS);

export function createClient(transport, options) {
  const entry = TRANSPORTS[transport];
  if (!entry) throw new Error(`Unknown transport ${transport}`);
  return new entry.Client(options);
}
