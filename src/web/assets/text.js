// Post text from X is untrusted. This module turns text + X's url entities into plain pieces (text, or a
// link with a checked http(s) href); the card builds DOM nodes from them with createTextNode only.

const SAFE_PROTOCOLS = new Set(["http:", "https:"]);
// X appends one t.co link to a post with media, pointing at the media's own page; X hides it next to
// the media, and so does the card.
const MEDIA_LINK = /^https?:\/\/(?:x|twitter)\.com\/[A-Za-z0-9_]+\/status\/\d+\/(?:photo|video)\/\d+$/;

/** An absolute http(s) URL as a string, or null for anything else (javascript:, data:, relative, junk). */
export function safeHttpUrl(raw) {
  if (typeof raw !== "string" || raw === "") return null;
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (!SAFE_PROTOCOLS.has(url.protocol) || url.username || url.password) return null;
  return url.href;
}

/** Where each link sits, in code points, checked against the text itself (X counts code points, JS UTF-16). */
function placeLinks(points, links) {
  const placed = [];
  let cursor = 0;
  const sorted = [...links].filter(isLinkShaped).sort((a, b) => a.start - b.start);
  for (const link of sorted) {
    let start = link.start;
    const length = Array.from(link.url).length;
    if (points.slice(start, start + length).join("") !== link.url || start < cursor) {
      // Offsets that do not match the text (edited text, another counting): find the t.co URL instead.
      start = indexOfPoints(points, Array.from(link.url), cursor);
      if (start < 0) continue;
    }
    placed.push({ link, start, end: start + length });
    cursor = start + length;
  }
  return placed;
}

function isLinkShaped(link) {
  return (
    link !== null &&
    typeof link === "object" &&
    typeof link.url === "string" &&
    link.url !== "" &&
    Number.isInteger(link.start) &&
    link.start >= 0
  );
}

function indexOfPoints(points, needle, from) {
  outer: for (let i = from; i + needle.length <= points.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (points[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * The post's text as pieces: {text} for plain text, {text, href} for a link.
 * A t.co URL becomes its display_url, linked to expanded_url when that is http(s), plain text otherwise.
 */
export function textPieces(text, links = [], { hasMedia = false } = {}) {
  const points = Array.from(typeof text === "string" ? text : "");
  const pieces = [];
  let at = 0;
  const push = (piece) => {
    const last = pieces[pieces.length - 1];
    if (!piece.href && last && !last.href) last.text += piece.text;
    else if (piece.text) pieces.push(piece);
  };
  for (const { link, start, end } of placeLinks(points, Array.isArray(links) ? links : [])) {
    push({ text: points.slice(at, start).join("") });
    at = end;
    const target = typeof link.expanded_url === "string" ? link.expanded_url : link.url;
    if (hasMedia && MEDIA_LINK.test(target)) continue;
    const shown = typeof link.display_url === "string" && link.display_url ? link.display_url : target;
    const href = safeHttpUrl(target);
    push(href ? { text: shown, href } : { text: shown });
  }
  push({ text: points.slice(at).join("") });
  const last = pieces[pieces.length - 1];
  if (last && !last.href) {
    last.text = last.text.trimEnd();
    if (!last.text) pieces.pop();
  }
  return pieces;
}
