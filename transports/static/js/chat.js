// The chat page: rooms, members, private conversations, and a transport switch that changes
// how messages arrive in the middle of a conversation.

import { Api } from './api.js';
import { Conversations } from './conversations.js';
import { $, Notices, clock, el, formatCount } from './dom.js';
import { Link } from './link.js';
import { t } from './text.js';
import { TRANSPORTS, TRANSPORT_NAMES } from './transports/index.js';

const REFRESH_SECONDS = 2; // members and the room list
const HISTORY = 50;
const STORED_TRANSPORT = 'chatlab.transport';

class ChatPage {
  constructor(root) {
    this.me = root.dataset.me;
    this.loginUrl = root.dataset.loginUrl;
    this.cursor = Number(root.dataset.cursor);
    this.api = new Api();
    this.store = new Conversations(this.me);
    this.notices = new Notices($('#notices'));
    this.current = null; // the key of the conversation on screen
    this.memberRoom = null; // the room whose members are listed
    this.ended = false;
    const stored = localStorage.getItem(STORED_TRANSPORT);
    this.link = new Link({
      api: this.api,
      name: this.me,
      transport: TRANSPORTS[stored] ? stored : 'websocket',
      onMessage: (message, via) => this.received(message, via),
      onGap: (oldest) => this.notices.show(t('chat.gap', { oldest }), 'warning'),
      onError: (error, transport, { fatal }) => this.transportError(error, transport, fatal),
      onStatus: (status) => this.showStatus(status),
      onSwitch: (transport) => this.showTransport(transport),
    });
  }

  async boot() {
    this.buildSwitch();
    this.wireForms();
    this.link.start(this.cursor);
    try {
      const session = await this.api.request('GET', '/api/session');
      const rooms = session.rooms;
      for (const room of rooms) this.store.ensure(`#${room}`);
      if (rooms.length === 0) await this.join('lobby');
      else {
        this.open(`#${rooms[0]}`);
        await Promise.all(rooms.map((room) => this.loadHistory(room)));
      }
    } catch (error) {
      this.apiError(error);
    }
    setInterval(() => this.refresh(), REFRESH_SECONDS * 1000);
    setInterval(() => this.showCounters(), 250);
  }

  // -- transport ---------------------------------------------------------------------------

  buildSwitch() {
    const group = $('#transport-switch');
    for (const name of TRANSPORT_NAMES) {
      group.append(
        el(
          'button',
          {
            type: 'button',
            role: 'radio',
            class: `switch-option transport-${name}`,
            dataset: { transport: name },
            onclick: () => this.link.switchTo(name),
          },
          TRANSPORTS[name].label,
        ),
      );
    }
  }

  showTransport(transport) {
    localStorage.setItem(STORED_TRANSPORT, transport);
    const badge = $('#current-transport');
    badge.textContent = TRANSPORTS[transport].label;
    badge.dataset.transport = transport;
    $('#transport-how').textContent = TRANSPORTS[transport].how;
    for (const button of document.querySelectorAll('#transport-switch button')) {
      button.setAttribute('aria-checked', String(button.dataset.transport === transport));
    }
    this.showCounters();
  }

  showStatus({ state, detail }) {
    const status = $('#transport-status');
    status.dataset.state = state;
    status.textContent = detail || state;
  }

  showCounters() {
    const counters = this.link.counters;
    $('#count-requests').textContent = formatCount(counters.requests);
    $('#count-received').textContent = formatCount(counters.received);
    $('#count-sent').textContent = formatCount(counters.sent);
  }

  transportError(error, transport, fatal) {
    if (fatal) {
      this.sessionEnded(error.detail);
      return;
    }
    this.notices.show(t('notice.about', { transport: TRANSPORTS[transport].label, detail: error.detail }), 'warning');
  }

  sessionEnded(detail) {
    if (this.ended) return;
    this.ended = true;
    this.link.stop();
    this.showStatus({ state: 'failed', detail: t('status.session_ended') }); // whoever noticed first
    for (const control of document.querySelectorAll('#composer input, #composer button')) {
      control.disabled = true;
    }
    this.notices.show(t('chat.session_ended', { detail }), 'error');
  }

  apiError(error) {
    if (error.sessionEnded) this.sessionEnded(error.detail);
    else this.notices.show(error.detail ?? String(error), 'error');
  }

  // API calls made by the page for the chat are charged to the transport in use.
  call(method, path, options) {
    return this.api.request(method, path, { ...options, transport: this.link.transport });
  }

  // -- messages ----------------------------------------------------------------------------

  received(message, via) {
    const { conversation, added } = this.store.add(message, via);
    if (!added) return;
    if (conversation.key === this.current) this.appendMessage(conversation, message, via);
    else {
      conversation.unread += 1;
      this.renderLists();
    }
  }

  async loadHistory(room) {
    try {
      const { messages } = await this.call(
        'GET',
        `/api/rooms/${encodeURIComponent(room)}/messages?limit=${HISTORY}`,
      );
      for (const message of messages) this.store.add(message, 'history');
      if (this.current === `#${room}`) this.renderConversation();
    } catch (error) {
      this.apiError(error);
    }
  }

  send(text) {
    const conversation = this.store.get(this.current);
    if (!conversation || this.ended) return;
    const { cid, done } = this.link.send(conversation.target, text);
    conversation.pending.set(cid, { text, state: 'sending' });
    this.renderConversation();
    done.then(
      () => this.updatePending(conversation, cid, { state: 'accepted' }),
      (error) => {
        this.updatePending(conversation, cid, { state: 'failed', detail: error.detail });
        this.apiError(error);
      },
    );
  }

  updatePending(conversation, cid, change) {
    const entry = conversation.pending.get(cid);
    if (!entry) return; // its message already came back
    Object.assign(entry, change);
    if (conversation.key === this.current) this.renderConversation();
  }

  // -- rooms and people --------------------------------------------------------------------

  async join(room) {
    try {
      const answer = await this.call('POST', `/api/rooms/${encodeURIComponent(room)}/join`);
      this.store.ensure(`#${answer.room}`);
      this.open(`#${answer.room}`);
      this.showMembers(answer.room, answer.members);
      await this.loadHistory(answer.room);
    } catch (error) {
      this.apiError(error);
    }
  }

  async leave(room) {
    try {
      await this.call('POST', `/api/rooms/${encodeURIComponent(room)}/leave`);
      this.store.remove(`#${room}`);
      const next = this.store.ofKind('room')[0] ?? this.store.ofKind('private')[0];
      this.memberRoom = null;
      if (next) this.open(next.key);
      else {
        this.current = null;
        this.renderConversation();
        this.renderLists();
        this.showMembers(null, []);
      }
    } catch (error) {
      this.apiError(error);
    }
  }

  open(key) {
    const conversation = this.store.ensure(key);
    conversation.unread = 0;
    this.current = key;
    if (conversation.kind === 'room' && this.memberRoom !== conversation.name) {
      this.memberRoom = conversation.name;
      this.refreshMembers();
    }
    this.renderConversation();
    this.renderLists();
    $('#message-input').focus();
  }

  async refresh() {
    if (this.ended) return;
    await Promise.all([this.refreshMembers(), this.refreshRooms()]);
  }

  async refreshMembers() {
    const room = this.memberRoom;
    if (room === null) return;
    try {
      const answer = await this.call('GET', `/api/rooms/${encodeURIComponent(room)}/members`);
      if (room === this.memberRoom) this.showMembers(answer.room, answer.members);
    } catch (error) {
      if (error.sessionEnded) this.sessionEnded(error.detail);
    }
  }

  async refreshRooms() {
    try {
      const { rooms } = await this.call('GET', '/api/rooms');
      const list = $('#other-rooms');
      list.replaceChildren(
        ...rooms
          .filter(({ room }) => !this.store.get(`#${room}`))
          .map(({ room, members }) =>
            el(
              'li',
              {},
              el(
                'button',
                { type: 'button', class: 'chip', onclick: () => this.join(room) },
                `#${room}`,
                el('span', { class: 'chip-count' }, members),
              ),
            ),
          ),
      );
    } catch (error) {
      if (error.sessionEnded) this.sessionEnded(error.detail);
    }
  }

  showMembers(room, members) {
    $('#members-title').textContent = room ? t('chat.members_of', { room }) : t('chat.members');
    $('#members').replaceChildren(
      ...members.map((name) =>
        el(
          'li',
          {},
          name === this.me
            ? el('span', { class: 'member member-me' }, t('chat.you', { name }))
            : el(
                'button',
                {
                  type: 'button',
                  class: 'member',
                  dataset: { member: name },
                  title: t('chat.talk_privately', { name }),
                  onclick: () => this.open(`@${name}`),
                },
                name,
              ),
        ),
      ),
    );
  }

  // -- rendering ---------------------------------------------------------------------------

  renderLists() {
    for (const [kind, selector, sigil] of [
      ['room', '#room-list', '#'],
      ['private', '#private-list', '@'],
    ]) {
      $(selector).replaceChildren(
        ...this.store.ofKind(kind).map((conversation) =>
          el(
            'li',
            {},
            el(
              'button',
              {
                type: 'button',
                class: 'conversation-link',
                dataset: { key: conversation.key },
                'aria-current': conversation.key === this.current ? 'true' : null,
                onclick: () => this.open(conversation.key),
              },
              `${sigil}${conversation.name}`,
              conversation.unread
                ? el('span', { class: 'unread', title: t('chat.unread') }, conversation.unread)
                : null,
            ),
          ),
        ),
      );
    }
  }

  renderConversation() {
    const conversation = this.store.get(this.current);
    const list = $('#messages');
    const title = $('#conversation-title');
    const leave = $('#leave-room');
    const input = $('#message-input');
    if (!conversation) {
      title.textContent = t('chat.no_conversation');
      leave.hidden = true;
      list.replaceChildren();
      return;
    }
    const room = conversation.kind === 'room';
    title.textContent = room ? `#${conversation.name}` : t('chat.private_with', { name: conversation.name });
    title.dataset.kind = conversation.kind;
    leave.hidden = !room;
    input.placeholder = room
      ? t('chat.placeholder_room', { room: conversation.name })
      : t('chat.placeholder_private', { name: conversation.name });
    list.replaceChildren(
      ...conversation.sorted().map(({ message, via }) => this.messageItem(message, via)),
      ...[...conversation.pending].map(([cid, entry]) => this.pendingItem(cid, entry)),
    );
    list.dataset.lastId = String(conversation.lastId);
    list.scrollTop = list.scrollHeight;
  }

  appendMessage(conversation, message, via) {
    const list = $('#messages');
    const lastShown = Number(list.dataset.lastId ?? 0);
    if (message.id < lastShown) {
      this.renderConversation(); // out of order (history arriving late): redraw in id order
      return;
    }
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.querySelector(`li.pending[data-cid="${CSS.escape(message.cid ?? '')}"]`)?.remove();
    const firstPending = list.querySelector('li.pending');
    list.insertBefore(this.messageItem(message, via), firstPending);
    list.dataset.lastId = String(message.id);
    if (atBottom || message.from === this.me) list.scrollTop = list.scrollHeight;
  }

  messageItem(message, via) {
    const mine = message.from === this.me;
    const viaLabel = TRANSPORTS[via]?.short ?? via;
    return el(
      'li',
      { class: `msg${mine ? ' mine' : ''}`, dataset: { id: message.id, via } },
      el(
        'span',
        { class: 'meta' },
        el('time', { datetime: new Date(message.at * 1000).toISOString() }, clock(message.at)),
        el('span', { class: `via via-${via}`, title: t('chat.delivered_by', { transport: viaLabel }) }, viaLabel),
      ),
      el('span', { class: 'from' }, message.from),
      el('span', { class: 'text' }, message.text),
    );
  }

  pendingItem(cid, { text, state, detail }) {
    const label = {
      sending: t('chat.pending.sending'),
      accepted: t('chat.pending.accepted'),
      failed: t('chat.pending.failed'),
    };
    return el(
      'li',
      { class: `msg mine pending pending-${state}`, dataset: { cid }, title: detail ?? null },
      el('span', { class: 'meta' }, el('span', { class: 'via' }, label[state])),
      el('span', { class: 'from' }, this.me),
      el('span', { class: 'text' }, text),
    );
  }

  // -- forms -------------------------------------------------------------------------------

  wireForms() {
    $('#composer').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('#message-input');
      const text = input.value;
      if (!text.trim()) return;
      input.value = '';
      this.send(text);
    });
    $('#join-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('#join-room');
      const room = input.value.trim();
      if (!room) return;
      input.value = '';
      this.join(room);
    });
    $('#leave-room').addEventListener('click', () => {
      const conversation = this.store.get(this.current);
      if (conversation?.kind === 'room') this.leave(conversation.name);
    });
    $('#logout').addEventListener('click', async () => {
      this.link.stop();
      try {
        await this.api.request('DELETE', '/api/session');
      } catch (error) {
        if (!error.sessionEnded) {
          this.notices.show(t('chat.logout_failed', { detail: error.detail }), 'error');
          return;
        }
      }
      location.assign(this.loginUrl);
    });
  }
}

new ChatPage($('#chat')).boot();
