// A liked post as a card, built node by node: text through createTextNode, links only with a checked
// http(s) href. Nothing from the post ever reaches an HTML parser.

import { safeHttpUrl, textPieces } from "./text.js";

const LANG = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** An <a> opening in a new tab, or null when the URL is not http(s). */
export function externalLink(raw, className) {
  const href = safeHttpUrl(raw);
  if (!href) return null;
  const a = el("a", className);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

/** The round avatar: the initial on a colour, the picture over it when it loads. */
export function avatar(author) {
  const box = el("span", "avatar");
  const handle = author?.username || "?";
  const initial = el("span", "avatar-initial", Array.from(handle)[0].toUpperCase());
  initial.setAttribute("aria-hidden", "true");
  box.dataset.hue = String(hue(handle));
  box.append(initial);
  const src = safeHttpUrl(author?.profile_image_url);
  if (src) {
    const img = el("img", "avatar-img");
    img.alt = "";
    img.width = 48;
    img.height = 48;
    img.decoding = "async";
    img.referrerPolicy = "no-referrer";
    // The initial stays underneath: a broken or blocked image just leaves it showing.
    img.addEventListener("error", () => img.remove(), { once: true });
    img.src = src;
    box.append(img);
  }
  return box;
}

function hue(text) {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.codePointAt(0)) % 360;
  return Math.floor(h / 30); // 12 palettes in the stylesheet
}

function authorLine(author) {
  const who = el("div", "who");
  const name = el("bdi", "name", author?.name || author?.username || "Unknown author");
  name.dir = "auto";
  who.append(name);
  if (author?.verified) {
    const badge = el("span", "verified", "✓");
    badge.title = "Verified";
    badge.setAttribute("role", "img");
    badge.setAttribute("aria-label", "Verified");
    who.append(" ", badge);
  }
  if (author?.username) who.append(" ", el("span", "handle", `@${author.username}`));
  return who;
}

// A bare URL in an archive post's text (the archive keeps t.co links in the text, without their offsets).
const BARE_URL = /https?:\/\/[^\s<>"]+/g;

/** Plain text pieces with their bare http(s) URLs as links too (archive posts only). */
function withBareLinks(pieces) {
  const out = [];
  for (const piece of pieces) {
    if (piece.href) {
      out.push(piece);
      continue;
    }
    let at = 0;
    for (const found of piece.text.matchAll(BARE_URL)) {
      const url = found[0].replace(/[.,;:!?)\]]+$/, "");
      out.push({ text: piece.text.slice(at, found.index) });
      out.push(safeHttpUrl(url) ? { text: url, href: url } : { text: url });
      at = found.index + url.length;
    }
    out.push({ text: piece.text.slice(at) });
  }
  return out.filter((piece) => piece.text);
}

/** The links of an archive post carry no offsets: each is placed where its URL is found in the text. */
function placeable(links) {
  if (!Array.isArray(links)) return [];
  return links
    .filter((link) => link && typeof link === "object")
    .map((link) => {
      const url = typeof link.url === "string" && link.url ? link.url : link.expanded_url;
      return { ...link, url, start: Number.isInteger(link.start) && link.start >= 0 ? link.start : 0 };
    });
}

function postText(post, fromArchive) {
  const p = el("p", "text");
  p.dir = "auto";
  p.setAttribute("elementtiming", "card-text"); // when the text was painted, for bench/page_click.py
  const media = Array.isArray(post.media) && post.media.length > 0;
  let pieces = textPieces(post.text, fromArchive ? placeable(post.links) : post.links, { hasMedia: media });
  if (fromArchive) pieces = withBareLinks(pieces);
  if (fromArchive && pieces.length === 0) {
    p.classList.add("text-missing");
    p.append("This post's text isn't in the archive: it may have been deleted.");
    return p;
  }
  for (const piece of pieces) {
    const link = piece.href ? externalLink(piece.href, "text-link") : null;
    if (link) {
      link.textContent = piece.text;
      link.title = piece.href;
      p.append(link);
    } else {
      p.append(document.createTextNode(piece.text));
    }
  }
  return p;
}

const KIND_LABEL = { video: "Video", animated_gif: "GIF" };

function mediaItem(item, index, total, postLink) {
  const li = el("li", "media-item");
  const kind = KIND_LABEL[item.type] ?? null;
  const src = safeHttpUrl(item.type === "photo" ? item.url : item.preview_image_url || item.url);
  const described = typeof item.alt_text === "string" && item.alt_text.trim() !== "";
  const fallbackAlt = `${kind ?? "Photo"}${total > 1 ? ` ${index + 1} of ${total}` : ""}, no description`;
  const alt = described ? (kind ? `${kind}: ${item.alt_text}` : item.alt_text) : fallbackAlt;
  const frame = externalLink(postLink, "media-frame") ?? el("div", "media-frame");
  if (src) {
    const img = el("img", "media-img");
    img.alt = alt;
    // The box is reserved from X's width and height before the image arrives: no layout shift.
    if (Number.isInteger(item.width) && Number.isInteger(item.height) && item.width > 0 && item.height > 0) {
      img.width = item.width;
      img.height = item.height;
    }
    img.loading = "lazy";
    img.decoding = "async";
    img.referrerPolicy = "no-referrer";
    img.addEventListener("error", () => img.replaceWith(el("span", "media-missing", alt)), { once: true });
    img.src = src;
    frame.append(img);
  } else {
    frame.append(el("span", "media-missing", alt));
  }
  if (kind) {
    const badge = el("span", "media-kind", kind);
    badge.setAttribute("aria-hidden", "true");
    frame.append(badge);
  }
  li.append(frame);
  return li;
}

// X's post ids are snowflakes: the top bits count milliseconds since X's epoch (2010-11-04T01:42:54.657Z).
const SNOWFLAKE_EPOCH_MS = 1288834974657n;
// Posts from before November 2010 have sequential ids (up to ~29.7 billion) that carry no time at all.
const FIRST_SNOWFLAKE = 30_000_000_000n;

/** When post `id` was created, from the id itself, or null for an id that is not a snowflake. */
export function snowflakeDate(id) {
  if (typeof id !== "string" || !/^[0-9]{1,20}$/.test(id) || BigInt(id) < FIRST_SNOWFLAKE) return null;
  const ms = (BigInt(id) >> 22n) + SNOWFLAKE_EPOCH_MS;
  const when = new Date(Number(ms));
  return Number.isNaN(when.getTime()) ? null : when;
}

function postDate(post) {
  let when = post.created_at ? new Date(post.created_at) : null;
  if (!when || Number.isNaN(when.getTime())) when = snowflakeDate(String(post.id ?? ""));
  if (!when) return null;
  const time = el("time", "date", dateFormat.format(when));
  time.dateTime = when.toISOString();
  return time;
}

/**
 * The <article> for one pick's post. `liked` is how it was liked ({source: "api"|"archive"}); a post from the
 * archive has no author and no media: its card says where it came from instead. `own`: the owner is looking.
 */
export function renderCard(post, { liked = null, own = false } = {}) {
  const article = el("article", "card");
  article.dataset.postId = String(post.id);
  if (typeof post.lang === "string" && LANG.test(post.lang)) article.lang = post.lang;
  const author = post.author && typeof post.author === "object" ? post.author : null;
  const fromArchive = liked?.source === "archive";
  if (fromArchive) article.dataset.source = "archive";
  const by = author?.name || author?.username;
  article.setAttribute(
    "aria-label",
    by ? `Liked post by ${by}` : fromArchive ? "Liked post, from the X archive" : "Liked post by an unknown author",
  );

  if (author || !fromArchive) {
    const head = el("header", "card-head");
    head.append(avatar(author), authorLine(author));
    article.append(head);
  }
  if (fromArchive) article.append(el("p", "source", own ? "from your archive" : "from their X archive"));
  article.append(postText(post, fromArchive));

  const media = Array.isArray(post.media) ? post.media.filter((m) => m && typeof m === "object").slice(0, 4) : [];
  if (media.length) {
    const list = el("ul", `media media-${media.length}`);
    list.setAttribute("aria-label", media.length === 1 ? "Attached media" : `${media.length} attached media`);
    media.forEach((item, i) => list.append(mediaItem(item, i, media.length, post.url)));
    article.append(list);
  }

  const foot = el("footer", "card-foot");
  const date = postDate(post);
  if (date) foot.append(date);
  const open = externalLink(post.url, "open-on-x");
  if (open) {
    open.append("View on X", el("span", "visually-hidden", " (opens in a new tab)"));
    foot.append(open);
  }
  article.append(foot);
  return article;
}
