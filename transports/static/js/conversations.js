// The chat page's model: one conversation per room and per private partner, each holding
// its messages by id (so the stream and the room history merge without doubles) and the
// sends still waiting for their message to come back.

export class Conversation {
  constructor(key) {
    this.key = key;
    this.kind = key.startsWith('#') ? 'room' : 'private';
    this.name = key.slice(1);
    this.messages = new Map(); // id -> { message, via }
    this.pending = new Map(); // cid -> { text, state: 'sending' | 'accepted' | 'failed', detail }
    this.unread = 0;
  }

  get target() {
    return this.kind === 'room' ? { room: this.name } : { to: this.name };
  }

  sorted() {
    return [...this.messages.values()].sort((a, b) => a.message.id - b.message.id);
  }

  get lastId() {
    let last = 0;
    for (const id of this.messages.keys()) last = Math.max(last, id);
    return last;
  }
}

export class Conversations {
  constructor(me) {
    this.me = me;
    this.byKey = new Map();
  }

  keyOf(message) {
    if (message.room !== null) return `#${message.room}`;
    return `@${message.from === this.me ? message.to : message.from}`;
  }

  get(key) {
    return this.byKey.get(key);
  }

  ensure(key) {
    let conversation = this.byKey.get(key);
    if (!conversation) {
      conversation = new Conversation(key);
      this.byKey.set(key, conversation);
    }
    return conversation;
  }

  remove(key) {
    this.byKey.delete(key);
  }

  // Returns the conversation and whether the message was new to it.
  add(message, via) {
    const conversation = this.ensure(this.keyOf(message));
    if (message.from === this.me && message.cid) conversation.pending.delete(message.cid);
    if (conversation.messages.has(message.id)) return { conversation, added: false };
    conversation.messages.set(message.id, { message, via });
    return { conversation, added: true };
  }

  ofKind(kind) {
    return [...this.byKey.values()]
      .filter((c) => c.kind === kind)
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
