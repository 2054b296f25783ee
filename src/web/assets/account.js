// The signed-in person: who they are (top right), and what only the owner of a subscription may do with it
// (the "Your likes" panel): share it by link or keep it private, import the X archive (import.js), sign out,
// disconnect and delete everything.
// The session itself is an HttpOnly cookie: this never sees it, it only asks the API who is signed in.

import { api, errorOf, loginHref } from "./api.js";
import { avatar } from "./card.js";

const $ = (id) => document.getElementById(id);

/** The person the session belongs to ({username, x_user_id, name, profile_image_url, subscription}), or null. */
export let me = null;

/** Ask the API who is signed in; a failure counts as nobody (the page works for visitors all the same). */
export async function loadMe(signal) {
  try {
    const { status, data } = await api.me(signal);
    me = status === 200 && data?.username ? data : null;
  } catch {
    me = null;
  }
  showAccount();
  return me;
}

export function isOwner(name) {
  return Boolean(me && name && me.username.toLowerCase() === String(name).toLowerCase());
}

/** The app's own address (stage prefix included, no query): what a share link starts with. */
export function appBase() {
  return new URL("./", location.href).href;
}

export function shareLink(name) {
  return `${appBase()}?u=${encodeURIComponent(name)}`;
}

function showAccount() {
  document.body.dataset.signedIn = String(Boolean(me));
  $("account").hidden = !me;
  if (!me) return;
  $("account-avatar").replaceChildren(avatar({ username: me.username, profile_image_url: me.profile_image_url }));
  $("account-name").textContent = me.name || `@${me.username}`;
  $("account-handle").textContent = `@${me.username}`;
}

/** Every "Connect with X" and "Reconnect": back to this app's start once X has said yes. */
export function wireConnectLinks() {
  const href = loginHref(new URL(appBase()).pathname);
  for (const link of document.querySelectorAll("a[href^='auth/x/login']")) link.href = href;
}

// --- the owner's panel -------------------------------------------------------------------------------------

let shown = null; // the subscription the panel is about ({username, visibility})
let busy = false;

/** Show the panel for the owner's own subscription `sub` ({username, visibility, status}), or hide it (null). */
export function showOwner(sub) {
  const panel = $("owner");
  shown = sub;
  panel.hidden = !sub;
  const name = sub ? (sub.username ?? me?.username) : null;
  showImportFor(name);
  if (!sub) return;
  const isPublic = sub.visibility === "public";
  $("share").checked = isPublic;
  $("share-state").textContent = isPublic
    ? "Public: anyone with this link sees your likes."
    : "Private: only you can see them.";
  $("share-link-row").hidden = !isPublic;
  $("share-link").textContent = shareLink(name);
  $("share-link").href = shareLink(name);
  $("confirm-name").textContent = `@${name}`;
  // X refused the token: whatever the page shows (a card of the likes kept, or the status), offer to reconnect.
  $("reconnect-row").hidden = sub.status !== "reconnect_needed";
}

// Only an owner imports: the import's modules (import.js, archive.js) load the first time one shows up.
let importModule = null;

function showImportFor(name) {
  $("import").hidden = !name;
  if (!name && !importModule) return;
  importModule ??= import("./import.js").then((module) => {
    module.wireImport();
    return module;
  });
  importModule.then((module) => module.showImport(name)).catch(() => {
    $("import").hidden = true; // the page works on without it
  });
}

function ownerError(message) {
  $("owner-error").textContent = message ?? "";
  $("owner-error").hidden = !message;
}

function answerMessage(status, data) {
  if (status === 401) return "You're signed out. Connect with X again to change this.";
  const message = errorOf(data)?.message;
  if (message) return `That didn't work: ${message}.`;
  return `That didn't work (HTTP ${status}). Try again in a moment.`;
}

async function changeVisibility() {
  const box = $("share");
  if (!shown || busy) {
    box.checked = shown?.visibility === "public";
    return;
  }
  busy = true;
  ownerError(null);
  const wanted = box.checked ? "public" : "private";
  try {
    const { status, data } = await api.share(shown.username ?? me.username, wanted);
    if (status === 200 && data?.visibility) showOwner({ ...shown, ...data });
    else {
      showOwner(shown);
      ownerError(answerMessage(status, data));
    }
  } catch {
    showOwner(shown);
    ownerError("Couldn't reach random-likes. Check your connection, then try again.");
  } finally {
    busy = false;
  }
}

async function copyLink() {
  const done = $("copy-done");
  try {
    await navigator.clipboard.writeText($("share-link").href);
    done.textContent = "Copied.";
  } catch {
    done.textContent = "Select the link above to copy it.";
  }
}

async function signOut() {
  ownerError(null);
  try {
    const { status, data } = await api.signOut();
    if (status !== 204 && status !== 401) {
      ownerError(answerMessage(status, data));
      return;
    }
  } catch {
    ownerError("Couldn't reach random-likes. Check your connection, then try again.");
    return;
  }
  location.assign(appBase());
}

/** Wire the panel; `onDisconnected(name)` runs once the API has accepted the deletion. */
export function wireOwner({ onDisconnected }) {
  const dialog = $("confirm");
  $("share").addEventListener("change", changeVisibility);
  $("copy-link").addEventListener("click", copyLink);
  $("sign-out").addEventListener("click", signOut);
  $("disconnect").addEventListener("click", () => {
    ownerError(null);
    dialog.showModal();
  });
  $("confirm-cancel").addEventListener("click", () => dialog.close());
  $("confirm-delete").addEventListener("click", async () => {
    if (busy || !shown) return;
    busy = true;
    const name = shown.username ?? me.username;
    try {
      const { status, data } = await api.disconnect(name);
      dialog.close();
      if (status === 204) {
        me = null;
        showAccount();
        showOwner(null);
        onDisconnected(name);
      } else {
        ownerError(answerMessage(status, data));
      }
    } catch {
      dialog.close();
      ownerError("Couldn't reach random-likes. Check your connection, then try again.");
    } finally {
      busy = false;
      if (!$("owner").hidden) $("disconnect").focus();
    }
  });
}
