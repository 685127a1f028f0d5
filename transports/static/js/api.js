// The HTTP side of the protocol, shared by every page and transport client.
//
// An Api either rides on the browser's session cookie (the chat page: one person, one tab)
// or carries its own token (the compare page: four sessions in one page, so the cookie must
// never mix in: requests go with credentials 'omit' and an Authorization header).

import { t } from './text.js';

// Codes worth trying again with the same cid: nothing was accepted, or we cannot know.
const RETRYABLE = new Set(['network', 'rate_limited', 'unavailable', 'stopped']);

export class ApiError extends Error {
  constructor(code, detail, { status = 0, retryAfter = null } = {}) {
    super(detail);
    this.name = 'ApiError';
    this.code = code;
    this.detail = detail;
    this.status = status;
    this.retryAfter = retryAfter; // seconds, when the server said so
  }

  get retryable() {
    return RETRYABLE.has(this.code);
  }

  get sessionEnded() {
    return this.code === 'unauthorized';
  }
}

// A send that was handed to a transport client after it stopped (a switch): the next client
// sends it again with the same cid, so it is accepted at most once.
export function stoppedError() {
  return new ApiError('stopped', t('error.stopped'));
}

export class Api {
  // token: sent as a Bearer header; without one, the session cookie is used unless
  // useCookie is false.
  constructor({ token = null, useCookie = true } = {}) {
    this.token = token;
    this.useCookie = useCookie && !token;
  }

  // POST /api/session without the cookie: a fresh identity that only this Api will use.
  static async loginWithToken(name, { transport } = {}) {
    const anonymous = new Api({ useCookie: false });
    const body = await anonymous.request('POST', '/api/session', { body: { name }, transport });
    return { api: new Api({ token: body.token }), name: body.name, cursor: body.cursor };
  }

  // Query parameters that authenticate EventSource and WebSocket, which cannot set headers.
  authParams() {
    return this.token ? { token: this.token } : {};
  }

  async request(method, path, { body, transport, signal, keepalive } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    // The server charges the request to this transport in /api/metrics.
    if (transport) headers['X-Chatlab-Transport'] = transport;
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        keepalive,
        cache: 'no-store',
        credentials: this.useCookie ? 'same-origin' : 'omit',
      });
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new ApiError('network', t('error.unreachable', { reason: error.message }));
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      if (error.name === 'AbortError') throw error;
    }
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('Retry-After')) || null;
      throw new ApiError(
        data?.error ?? `http_${response.status}`,
        data?.detail ?? t('error.http_status', { status: response.status, reason: response.statusText }),
        { status: response.status, retryAfter },
      );
    }
    return data;
  }
}
