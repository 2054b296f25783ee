// The page's flow: Connect with X → your own likes (or the first sync's status, refreshed on its own) →
// "Another one". A share link (?u=name) opens someone's public likes the same way, without the owner's
// controls; a private or unknown one is "not available". Every view is static markup in index.html; this
// only fills in text and toggles them.

import { appBase, isOwner, loadMe, me, showOwner, wireConnectLinks, wireOwner } from "./account.js";
import { api, errorOf, NetworkError } from "./api.js";
import { renderCard } from "./card.js";
import { Deck } from "./deck.js";
import { describe, pausedWords } from "./words.js";

const USERNAME = /^@?[A-Za-z0-9_]{1,15}$/;
const POLL_FIRST_MS = 2000;
const POLL_MAX_MS = 10000;

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("pick-form"),
  input: $("username"),
  fieldError: $("username-error"),
  views: {
    start: $("view-start"),
    loading: $("view-loading"),
    card: $("view-card"),
    notsub: $("view-notsub"),
    sync: $("view-sync"),
    unavailable: $("view-unavailable"),
    error: $("view-error"),
  },
  cardSlot: $("card-slot"),
  another: $("another"),
  count: $("count"),
  syncLine: $("sync-line"),
  syncLineText: $("sync-line-text"),
  paused: $("paused-line"),
  subscribe: $("subscribe"),
  syncName: $("sync-name"),
  syncTitle: $("sync-title"),
  syncDetail: $("sync-detail"),
  syncSpinner: $("sync-spinner"),
  syncRetry: $("sync-retry"),
  unavailableName: $("unavailable-name"),
  unavailableConnect: $("unavailable-connect"),
  startNote: $("start-note"),
  errorText: $("error-text"),
  retry: $("retry"),
};

/** Everything about the username being shown; replaced (and its work cancelled) when another is chosen. */
let session = null;

// Where focus goes when the control that had it disappears with its view (keyboard users stay in place).
const FOCUS_ON_SHOW = {
  start: "connect",
  card: "another",
  notsub: "subscribe",
  sync: "sync-name",
  unavailable: "unavailable-title",
  error: "retry",
};

let focusLost = false;

function show(view) {
  const active = document.activeElement;
  const inViews = active && Object.values(ui.views).some((node) => node.contains(active));
  for (const [name, node] of Object.entries(ui.views)) node.hidden = name !== view;
  if (!["card", "sync", "loading"].includes(view)) ui.paused.hidden = true; // it speaks of these likes only
  document.body.dataset.view = view;
  // Lost now (its view was hidden), or lost by the loading view in between and still nowhere.
  focusLost = (inViews && !ui.views[view].contains(active)) || (focusLost && document.activeElement === document.body);
  if (focusLost && FOCUS_ON_SHOW[view]) {
    $(FOCUS_ON_SHOW[view]).focus({ preventScroll: true });
    focusLost = false;
  }
}

function validationMessage(raw) {
  const name = raw.replace(/^@/, "");
  if (!name) return "Enter an X username.";
  if (name.length > 15) return "A username is at most 15 characters long, the most X allows.";
  return "A username may contain only the letters A-Z, digits and underscores.";
}

function setFieldError(message) {
  ui.fieldError.textContent = message ?? "";
  ui.fieldError.hidden = !message;
  if (message) ui.input.setAttribute("aria-invalid", "true");
  else ui.input.removeAttribute("aria-invalid");
}

function end(s) {
  if (!s) return;
  s.ended = true;
  s.controller.abort();
  clearTimeout(s.timer);
}

function choose(raw) {
  const typed = raw.trim();
  if (!USERNAME.test(typed)) {
    setFieldError(validationMessage(typed));
    ui.input.focus();
    return;
  }
  setFieldError(null);
  const name = typed.replace(/^@/, "");
  end(session);
  const url = new URL(location.href);
  url.searchParams.set("u", name);
  history.replaceState(null, "", url);
  document.title = `@${name} · random-likes`;
  const own = isOwner(name);
  // The owner's controls belong to their own likes only; someone else's shared likes come without them.
  showOwner(own ? { visibility: "private", ...me.subscription, username: me.username } : null);
  session = {
    name,
    own,
    deck: new Deck(name),
    controller: new AbortController(),
    showing: null,
    drawing: false,
    polling: false,
    timer: 0,
    delay: POLL_FIRST_MS,
    seenCount: -1,
    ended: false,
  };
  ui.syncLine.hidden = true;
  ui.paused.hidden = true;
  show("loading");
  draw(session, { checkStatus: true });
}

// --- cards ---------------------------------------------------------------------------------------------

async function draw(s, { checkStatus = false } = {}) {
  if (s.drawing || s.ended) return;
  s.drawing = true;
  ui.cardSlot.setAttribute("aria-busy", "true");
  try {
    for (let attempt = 0; attempt < 4; attempt++) {
      const response = await api.pick(s.name, s.deck.next(), s.controller.signal);
      if (s.ended) return;
      const pick = response.data;
      if (response.status !== 200 || !pick?.post) {
        noPick(s, response);
        return;
      }
      // A new deck (or a changed count) can open with the post just shown: draw once more.
      if (!s.deck.dealt(String(pick.post.id), pick.like_count) && attempt < 3) continue;
      showCard(s, pick);
      if (checkStatus) refreshStatus(s); // is the sync still going? then say so above the card
      return;
    }
  } catch (error) {
    // After a failure, look at the sync's status again too: polling stopped with the error view.
    if (!s.ended) failed(s, error, () => draw(s, { checkStatus: true }));
  } finally {
    s.drawing = false;
    if (!s.ended) ui.cardSlot.setAttribute("aria-busy", "false");
  }
}

function showCard(s, pick) {
  ui.cardSlot.replaceChildren(renderCard(pick.post, { liked: pick.liked, own: s.own }));
  s.showing = String(pick.post.id);
  showCount(s, pick.like_count);
  show("card");
  performance.mark("random-likes:card");
  if (performance.getEntriesByName("random-likes:click", "mark").length) {
    performance.measure("random-likes:click-to-card", "random-likes:click", "random-likes:card");
    performance.clearMarks("random-likes:click");
  }
}

function showCount(s, n) {
  ui.count.textContent = `${new Intl.NumberFormat().format(n)} ${n === 1 ? "like" : "likes"} of @${s.name}`;
}

function another() {
  if (!session || session.drawing || document.body.dataset.view !== "card") return;
  performance.mark("random-likes:click");
  draw(session);
}

function noPick(s, { status, data }) {
  const error = errorOf(data);
  if (status === 404 && error?.code === "not_subscribed") {
    stopPolling(s);
    if (s.own) {
      show("notsub"); // connected, but the subscription is gone (deleted elsewhere): start it again
    } else {
      // Private or unknown: the API answers both alike, and so does the page.
      ui.unavailableName.textContent = `@${s.name}`;
      ui.unavailableConnect.hidden = Boolean(me);
      show("unavailable");
    }
  } else if (status === 409 && error?.status) {
    // Subscribed, nothing stored yet: say why, then keep the status fresh.
    showStatus(s, { username: s.name, status: error.status, like_count: 0 });
    s.polling = true;
    refreshStatus(s);
  } else if (status === 400 && error?.message) {
    show("start");
    setFieldError(sentence(error.message));
    ui.input.focus();
  } else {
    failed(s, { status }, () => draw(s, { checkStatus: true }));
  }
}

// --- subscribing and the sync's status ------------------------------------------------------------------

async function subscribe(s) {
  // aria-disabled, not disabled: a disabled button drops keyboard focus on the floor.
  if (s.subscribing) return;
  s.subscribing = true;
  ui.subscribe.setAttribute("aria-disabled", "true");
  ui.syncRetry.setAttribute("aria-disabled", "true");
  try {
    const { status, data } = await api.subscribe(s.name, s.controller.signal);
    if (s.ended) return;
    const error = errorOf(data);
    if (status === 202 && data?.status) {
      s.delay = POLL_FIRST_MS;
      applyStatus(s, data);
    } else if (status === 400 && error?.message) {
      show("start");
      setFieldError(sentence(error.message));
    } else if (status === 409 && error?.message) {
      showStatus(s, { username: s.name, status: "deleting", like_count: 0 }, sentence(error.message));
    } else if (status === 401) {
      location.assign(appBase()); // the session ended meanwhile: back to Connect
    } else {
      failed(s, { status }, () => subscribe(s));
    }
  } catch (error) {
    if (!s.ended) failed(s, error, () => subscribe(s));
  } finally {
    s.subscribing = false;
    ui.subscribe.removeAttribute("aria-disabled");
    ui.syncRetry.removeAttribute("aria-disabled");
  }
}

async function refreshStatus(s) {
  clearTimeout(s.timer);
  if (s.ended) return;
  try {
    const { status, data } = await api.subscription(s.name, s.controller.signal);
    if (s.ended) return;
    if (status === 200 && data?.status) {
      applyStatus(s, data);
      return;
    }
    if (status === 404 && errorOf(data)?.code === "not_subscribed") {
      noPick(s, { status, data });
      return;
    }
  } catch (error) {
    if (s.ended || error?.name === "AbortError") return;
  }
  // A failed refresh is not worth a full error view: the status stays as it was and we ask again, later.
  if (s.polling) {
    s.delay = Math.min(POLL_MAX_MS, Math.round(s.delay * 1.5));
    schedule(s);
  }
}

function applyStatus(s, sub) {
  const words = describe(sub);
  const count = Number.isInteger(sub.like_count) ? sub.like_count : 0;
  if (s.own && sub.visibility) showOwner(sub);
  // Progress resets the backoff; no news stretches it (2 s → 10 s).
  s.delay = count !== s.seenCount ? POLL_FIRST_MS : Math.min(POLL_MAX_MS, Math.round(s.delay * 1.5));
  s.seenCount = count;
  if (s.showing && count > 0) showCount(s, count); // an import (or the sync) added some
  showPaused(sub);
  // Above the card while the sync carries on; gone once it is done.
  const syncing = sub.status !== "ready";
  ui.syncLine.hidden = !syncing;
  ui.syncLine.dataset.busy = String(Boolean(words.busy));
  ui.syncLineText.textContent = syncing ? [words.title, words.detail].filter(Boolean).join(" · ") : "";
  if (!s.showing) {
    if (count > 0 && sub.status !== "deleting") {
      // Likes exist: show one while the sync carries on.
      show("loading");
      draw(s, { checkStatus: false });
    } else {
      showStatus(s, sub);
    }
  }
  s.polling = Boolean(words.poll);
  if (s.polling) schedule(s);
}

// Syncing paused for everyone (a read budget is spent): said once, above whichever view shows.
function showPaused(sub) {
  const text = pausedWords(sub.sync_paused);
  if (ui.paused.textContent !== (text ?? "")) ui.paused.textContent = text ?? "";
  ui.paused.hidden = !text;
}

function showStatus(s, sub, message) {
  const words = describe(sub);
  ui.syncName.textContent = `@${s.name}`;
  ui.syncTitle.textContent = message ?? words.title;
  ui.syncDetail.textContent = message ? "" : (words.detail ?? "");
  ui.syncSpinner.hidden = !words.busy;
  // Only the owner can subscribe again (or reconnect, in their panel); someone with the link just reads it.
  ui.syncRetry.hidden = !(s.own && words.retry);
  ui.views.sync.dataset.status = sub.status;
  show("sync");
}

function schedule(s) {
  clearTimeout(s.timer);
  if (s.ended || document.hidden) return; // visibilitychange resumes it
  s.polling = true;
  s.timer = setTimeout(() => refreshStatus(s), s.delay);
}

function stopPolling(s) {
  s.polling = false;
  clearTimeout(s.timer);
}

// --- errors --------------------------------------------------------------------------------------------

function failed(s, error, retry) {
  if (error?.name === "AbortError") return;
  stopPolling(s);
  let message;
  if (error instanceof NetworkError) {
    message = "Couldn't reach random-likes. Check your connection, then try again.";
  } else if (error?.status === 429) {
    message = "Too many requests right now. Wait a moment, then try again.";
  } else if (error?.status >= 500) {
    message = `Something went wrong on our side (HTTP ${error.status}). Try again in a moment.`;
  } else if (error?.status) {
    message = `The server gave an unexpected answer (HTTP ${error.status}).`;
  } else {
    message = "Something went wrong in the page. Try again.";
    console.warn("random-likes:", error);
  }
  ui.errorText.textContent = message;
  s.retry = retry;
  show("error");
}

function sentence(text) {
  const trimmed = String(text).trim();
  return trimmed ? trimmed[0].toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".") : "";
}

// --- wiring --------------------------------------------------------------------------------------------

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  choose(ui.input.value);
});
ui.input.addEventListener("input", () => {
  if (!ui.fieldError.hidden && USERNAME.test(ui.input.value.trim())) setFieldError(null);
});
ui.another.addEventListener("click", another);
ui.subscribe.addEventListener("click", () => session?.own && subscribe(session));
ui.syncRetry.addEventListener("click", () => session?.own && subscribe(session));
ui.retry.addEventListener("click", () => {
  if (!session?.retry) return;
  show("loading");
  session.retry();
});
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if (event.key === "n" || event.key === "N") {
    if (document.body.dataset.view === "card") {
      event.preventDefault();
      another();
    }
  } else if (event.key === "/") {
    event.preventDefault();
    ui.input.focus();
    ui.input.select();
  }
});
document.addEventListener("visibilitychange", () => {
  if (!session || session.ended || !session.polling) return;
  if (document.hidden) clearTimeout(session.timer);
  else refreshStatus(session);
});
window.addEventListener("pagehide", () => end(session));
window.addEventListener("pageshow", (event) => {
  // Back from the back/forward cache: the session ended on pagehide, so start it again.
  if (event.persisted && session?.ended) choose(session.name);
});

function disconnected(name) {
  end(session);
  session = null;
  history.replaceState(null, "", appBase());
  document.title = "random-likes";
  ui.startNote.textContent = `Disconnected. random-likes is deleting the likes it copied of @${name}.`;
  ui.startNote.hidden = false;
  ui.cardSlot.replaceChildren();
  show("start");
  $("connect").focus();
}

wireConnectLinks();
wireOwner({ onDisconnected: disconnected });
// An import is done (import.js): the count (and, if nothing was stored before, the first card) follows.
document.addEventListener("random-likes:imported", () => {
  if (session?.own && !session.ended) refreshStatus(session);
});

async function start() {
  const initial = new URL(location.href).searchParams.get("u");
  show("loading");
  await loadMe();
  if (initial && !isOwner(initial)) ui.input.value = initial; // someone's shared likes: the name they opened
  if (initial) choose(initial);
  else if (me) choose(me.username); // connected: straight to your own likes
  else show("start");
}

start();
