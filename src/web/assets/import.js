// "Import your X archive", in the owner's panel: pick the zip (or a bare like.js), read it here (archive.js),
// ask the API for a presigned POST, upload the bundle straight to S3, then follow the import to its end.
// Each stage speaks in one polite live region. The presigned fields carry a signature: they go into the
// upload and nowhere else (never a log, never the page).

import { api, errorOf, NetworkError } from "./api.js";
import { ArchiveError, MAX_UPLOAD_BYTES, readArchive, writeBundle } from "./archive.js";

const POLL_FIRST_MS = 1000;
const POLL_MAX_MS = 5000;
const SAY_EVERY_MS = 1000; // a screen reader hears a running count at most this often

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat();
const count = (n) => number.format(Number.isFinite(n) ? n : 0);
const likes = (n) => `${count(n)} ${n === 1 ? "like" : "likes"}`;

function megabytes(bytes) {
  const mb = bytes / (1024 * 1024);
  return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: mb < 10 ? 1 : 0 }).format(mb)} MB`;
}

let owner = null; // the username whose panel this is
let run = null; // the import being run: {controller, ended}
let lastFile = null;
let lastSaid = { stage: "", at: 0 };

/** Show the feature for the owner `name`'s own subscription, or hide it (null). */
export function showImport(name) {
  const section = $("import");
  if (name && owner && name.toLowerCase() !== owner.toLowerCase()) reset();
  owner = name;
  section.hidden = !name;
  const id = name ? remembered(name) : null;
  if (id && !run) resume(id);
}

function reset() {
  if (run) {
    run.ended = true;
    run.controller.abort();
  }
  run = null;
  lastFile = null;
  setBusy(false);
  say("idle", "", "");
  fail(null);
}

function setBusy(busy) {
  const input = $("import-file");
  // aria-disabled, not disabled: a disabled control drops keyboard focus on the floor.
  if (busy) input.setAttribute("aria-disabled", "true");
  else input.removeAttribute("aria-disabled");
  $("import").dataset.busy = String(busy);
}

/** The stage and its detail in the live region; a running count is said at most every SAY_EVERY_MS. */
function say(stage, title, detail, percent = null, { force = false } = {}) {
  const now = performance.now();
  const bar = $("import-bar");
  $("import").dataset.stage = stage;
  if (percent === null) {
    bar.hidden = true;
  } else {
    bar.hidden = false;
    bar.value = Math.max(0, Math.min(100, percent));
  }
  if (!force && stage === lastSaid.stage && now - lastSaid.at < SAY_EVERY_MS) return;
  lastSaid = { stage, at: now };
  $("import-title-line").textContent = title;
  $("import-detail").textContent = detail;
  $("import-progress").hidden = !title;
}

/** Say what went wrong; "Try again" only where the same file may work next time (not a refused archive). */
function fail(message, retry = false) {
  const box = $("import-error");
  box.textContent = message ?? "";
  box.hidden = !message;
  $("import-again").hidden = !message || !retry || !lastFile;
}

function readingDetail({ entries, of, bytes }) {
  return `${entries} of ${of} ${of === 1 ? "file" : "files"} · ${megabytes(bytes)} of likes read`;
}

/** Run `steps(current, name)` as the one import of this page; every outcome ends said (result or failure). */
async function runImport(steps) {
  if (!owner || run) return;
  const name = owner;
  const current = { controller: new AbortController(), ended: false };
  run = current;
  fail(null);
  setBusy(true);
  try {
    await steps(current, name);
  } catch (error) {
    if (current.ended || error?.name === "AbortError") return;
    if (error instanceof ArchiveError) endWith(error.message, false); // another file, not another try
    else if (error instanceof UploadError) endWith(error.message);
    else if (error instanceof NetworkError) endWith("Couldn't reach random-likes. Check your connection, then try again.");
    else {
      console.warn("random-likes import:", error?.name);
      endWith("Something went wrong in the page while importing. Try again.");
    }
  } finally {
    if (run === current) {
      run = null;
      setBusy(false);
    }
  }
}

/** Import `file`: read it, ask for the presigned POST, upload the bundle, follow the import to its end. */
function start(file) {
  return runImport(async (current, name) => {
    lastFile = file;
    say("reading", "Reading your archive…", `${file.name} · ${megabytes(file.size)}`, null, { force: true });
    const members = await readArchive(file, (progress) => {
      if (!current.ended) say("reading", "Reading your archive…", readingDetail(progress));
    });
    const bundle = await writeBundle(members);
    if (current.ended) return;
    if (bundle.size > MAX_UPLOAD_BYTES) {
      throw new ArchiveError("too_big", `Your likes come to ${megabytes(bundle.size)} compressed, more than the ${megabytes(MAX_UPLOAD_BYTES)} an import takes.`);
    }
    const read = members.filter((m) => m.name !== "account.js").length;
    const noun = read === 1 ? "file" : "files";
    say("creating", "Starting the import…", `${read} ${noun} of likes to upload · ${megabytes(bundle.size)}`, null, { force: true });
    const { status, data } = await api.startImport(name, current.controller.signal);
    if (current.ended) return;
    const error = errorOf(data);
    if (status === 409 && error?.code === "import_running") {
      const runningId = error.import?.id; // the running import, as GET .../imports/{id} answers it
      if (typeof runningId === "string" && runningId) {
        say("checking", "An import of your likes is already running: following it…", "", null, { force: true });
        await follow(current, name, runningId, "Already running · ");
      } else {
        endWith("An import of your likes is already running. Wait until it ends, then try again.");
      }
      return;
    }
    if (status !== 201 || !data?.id || !data?.upload?.url) {
      endWith(answerMessage(status, data));
      return;
    }
    await upload(current, data.upload, bundle);
    if (current.ended) return;
    remember(name, data.id); // a reload from here on picks the import up again
    say("checking", "Uploaded. Waiting for the import to start…", "", null, { force: true });
    await follow(current, name, data.id);
  });
}

/** Follow an import this tab uploaded before a reload. */
function resume(id) {
  return runImport(async (current, name) => {
    say("checking", "Following the import you started…", "", null, { force: true });
    await follow(current, name, id);
  });
}

const storageKey = (name) => `random-likes:import:${name.toLowerCase()}`;

function remember(name, id) {
  try {
    sessionStorage.setItem(storageKey(name), id);
  } catch {
    // storage refused (private mode, quota): only a reload loses track, the import itself goes on
  }
}

function forget(name) {
  try {
    sessionStorage.removeItem(storageKey(name));
  } catch {
    // as above
  }
}

function remembered(name) {
  try {
    return sessionStorage.getItem(storageKey(name));
  } catch {
    return null;
  }
}

function endWith(message, retry = true) {
  say("failed", "", "", null, { force: true });
  fail(message, retry);
}

function answerMessage(status, data) {
  if (status === 401) return "You're signed out. Connect with X again, then import.";
  const message = errorOf(data)?.message;
  if (message) return `The import didn't start: ${message}.`;
  return `The import didn't start (HTTP ${status}). Try again in a moment.`;
}

class UploadError extends Error {}

/** The presigned POST: every field of the policy first, the file last. XHR, for real upload progress. */
function upload(current, { url, fields }, bundle) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields ?? {})) form.append(key, value);
    form.append("file", bundle, "likes.tar.gz");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    const total = bundle.size;
    say("uploading", "Uploading your likes…", `0% of ${megabytes(total)}`, 0, { force: true });
    xhr.upload.addEventListener("progress", (event) => {
      if (current.ended) return;
      const sent = event.lengthComputable ? event.loaded / event.total : 0;
      const percent = Math.floor(sent * 100);
      say("uploading", "Uploading your likes…", `${percent}% of ${megabytes(total)}`, percent);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        say("uploading", "Uploading your likes…", `100% of ${megabytes(total)}`, 100);
        resolve();
      } else if (xhr.status === 400 || xhr.status === 403) {
        // S3 refuses an upload past the policy's size or after it expired; its XML is for us, not the person.
        reject(new UploadError(`The upload was refused (HTTP ${xhr.status}): it may have taken too long. Try again.`));
      } else {
        reject(new UploadError(`The upload failed (HTTP ${xhr.status}). Try again in a moment.`));
      }
    });
    xhr.addEventListener("error", () => {
      reject(new UploadError("The upload didn't get through. Check your connection, then try again."));
    });
    xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    current.controller.signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("aborted", "AbortError"));
    }, { once: true });
  });

/** Poll the import until it ends: every second while it moves, backing off to 5 s while it does not. */
async function follow(current, name, id, prefix = "") {
  let delay = POLL_FIRST_MS;
  let seen = "";
  let failures = 0;
  for (;;) {
    let answer;
    try {
      answer = await api.importStatus(name, id, current.controller.signal);
      failures = 0;
    } catch (error) {
      if (current.ended || error?.name === "AbortError") return;
      // A dropped poll is not the import's failure: ask again, later, a few times.
      if (++failures >= 5) throw error;
      answer = null;
    }
    if (current.ended) return;
    if (answer && answer.status !== 200) {
      forget(name);
      endWith(answerMessage(answer.status, answer.data).replace("didn't start", "can't be followed"));
      return;
    }
    const item = answer?.data;
    if (item?.status === "done" || item?.status === "failed") forget(name);
    if (item?.status === "done") {
      showDone(item);
      // app.js refreshes the count (and the first card, if there was none) on this.
      document.dispatchEvent(new CustomEvent("random-likes:imported"));
      return;
    }
    if (item?.status === "failed") {
      const message = item.error?.message ? sentence(item.error.message) : "The import failed.";
      endWith(`The import failed: ${message}`);
      return;
    }
    if (item) showRunning(item, prefix);
    const progress = item ? `${item.status}:${item.validated}:${item.likes_processed}` : seen;
    delay = progress !== seen ? POLL_FIRST_MS : Math.min(POLL_MAX_MS, Math.round(delay * 1.5));
    seen = progress;
    await sleep(delay, current.controller.signal);
  }
}

/** A running import's stage; `prefix` says it is one started elsewhere (another tab, the CLI). */
function showRunning(item, prefix) {
  if (item.status === "waiting_for_upload") {
    say("checking", `${prefix}Uploaded. Waiting for the import to start…`, "");
    return;
  }
  // likes_processed and validated are the progress; without them, what is stored says as much.
  const done = item.likes_processed ?? (item.likes_stored ?? 0) + (item.likes_already_stored ?? 0);
  if (!(item.validated ?? done > 0)) {
    const found = Number.isInteger(item.likes_found) && item.likes_found > 0 ? `${likes(item.likes_found)} so far` : "";
    say("checking", `${prefix}Checking your archive…`, found);
  } else {
    const of = item.likes_found ?? 0;
    const percent = of > 0 ? Math.floor((100 * done) / of) : null;
    say("importing", `${prefix}Importing your likes…`, `${count(done)} of ${likes(of)}`, percent);
  }
}

function showDone(item) {
  const found = item.likes_found ?? 0;
  const stored = item.likes_stored ?? 0;
  const already = item.likes_already_stored ?? 0;
  const title = found === 0 ? "Imported: your archive holds no likes." : `Imported ${likes(found)}: ${count(stored)} new, ${count(already)} already here.`;
  say("done", title, "", null, { force: true });
}

function sentence(text) {
  const trimmed = String(text).trim();
  return trimmed ? trimmed[0].toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".") : "";
}

/** Wire the file input and "Try again" (once: account.js loads this module when the owner first shows up). */
export function wireImport() {
  const input = $("import-file");
  input.addEventListener("click", (event) => {
    if (run) event.preventDefault(); // one import at a time
  });
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    input.value = ""; // the same file can be picked again after a failure
    if (file) start(file);
  });
  $("import-again").addEventListener("click", () => {
    if (lastFile && !run) start(lastFile);
  });
  window.addEventListener("pagehide", () => {
    if (run) {
      run.ended = true;
      run.controller.abort();
    }
  });
}
