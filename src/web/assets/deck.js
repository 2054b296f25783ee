// "No repeat until every stored like has been shown in this browser session": the API deals a shuffled
// deck (deck number + draw counter, each like once per like_count draws); this keeps both per username in
// sessionStorage and makes sure the same post never comes twice in a row.

const PREFIX = "random-likes:deck:";
const MAX_SKIPS = 3;

/** A random deck number in [0, 2^53 - 1], what the API and a JS Number both hold exactly. */
export function randomDeckNumber(crypto = globalThis.crypto) {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (words[0] & 0x1fffff) * 2 ** 32 + words[1];
}

function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
  };
}

/** sessionStorage, or memory when the browser refuses it (some private modes throw on access). */
export function sessionStore() {
  try {
    const storage = globalThis.sessionStorage;
    storage.setItem(PREFIX + "probe", "1");
    return storage;
  } catch {
    return memoryStorage();
  }
}

export class Deck {
  constructor(username, { storage = sessionStore(), newDeck = randomDeckNumber } = {}) {
    this.key = PREFIX + username.toLowerCase();
    this.storage = storage;
    this.newDeck = newDeck;
    this.state = this.load();
    this.skips = 0;
  }

  load() {
    try {
      const saved = JSON.parse(this.storage.getItem(this.key) ?? "null");
      if (saved && Number.isSafeInteger(saved.deck) && Number.isSafeInteger(saved.draw) && saved.draw >= 0) {
        return { deck: saved.deck, draw: saved.draw, count: saved.count | 0, last: saved.last ?? null };
      }
    } catch {
      // A damaged entry only costs a fresh deck.
    }
    return { deck: this.newDeck(), draw: 0, count: 0, last: null };
  }

  save() {
    try {
      this.storage.setItem(this.key, JSON.stringify(this.state));
    } catch {
      // Storage full or refused: the deck still works for this page.
    }
  }

  /** The query for the next card; starts a new deck once every card of this one has been dealt. */
  next() {
    if (this.state.count > 0 && this.state.draw >= this.state.count) {
      this.state = { ...this.state, deck: this.newDeck(), draw: 0 };
      this.save();
    }
    return { deck: this.state.deck, draw: this.state.draw };
  }

  /**
   * Record what the API dealt. Returns false when it is the post shown last (a new deck, or a changed
   * like_count, can start with it): the caller draws again. A changed like_count carries on with the deck.
   */
  dealt(postId, likeCount) {
    const repeat = postId === this.state.last && likeCount >= 2 && this.skips < MAX_SKIPS;
    this.state = { ...this.state, draw: this.state.draw + 1, count: likeCount };
    if (repeat) {
      this.skips += 1;
    } else {
      this.skips = 0;
      this.state.last = postId;
    }
    this.save();
    return !repeat;
  }
}
