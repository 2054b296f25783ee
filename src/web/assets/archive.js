// The X archive, read in the browser: its zip's central directory, then only data/account.js and
// data/like*.js, inflated with DecompressionStream. DMs and media are never read (File.slice reads only the
// bytes asked for). The result is the import's bundle, byte-compatible with src/shared/bundle.py: a
// gzip-compressed POSIX ustar archive of account.js (optional), like.js, like-part1.js, ... in that order.
// What the page can tell at once (not a zip, no like.js, a zip bomb, `../` names, encryption) it refuses here,
// before any upload; the importer checks everything again (an upload can be forged).

// The limits of src/shared/bundle.py (MAX_UPLOAD_BYTES, MAX_UNPACKED_BYTES): keep them equal.
export const MAX_UPLOAD_BYTES = 128 * 1024 * 1024;
export const MAX_UNPACKED_BYTES = 1024 * 1024 * 1024;
// A central directory this large is not an X archive's (100,000 media files take ~10 MB).
const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const EOCD_MIN = 22;
const COMMENT_MAX = 0xffff;

const LIKE_PART = /^like(?:-part([1-9][0-9]{0,3}))?\.js$/;
const ACCOUNT = "account.js";
const LIKE_START = "window.YTD.like.part";

/** Something the page can tell about the file at once; `message` is for the person, as it is. */
export class ArchiveError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ArchiveError";
    this.code = code;
  }
}

const notZip = () =>
  new ArchiveError("not_a_zip", "This file isn't a zip archive. Choose the .zip file that X sent you, or its data/like.js.");

async function bytesAt(file, start, end) {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

function u64(view, at) {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw notZip();
  return Number(value);
}

/** {entries, offset, size} of the central directory, from the (ZIP64) end of central directory record. */
async function findDirectory(file) {
  if (file.size < EOCD_MIN) throw notZip();
  // X's zips have no comment: the record is the last 22 bytes. Only a zip with a comment costs a wider read
  // (which may then touch the end of the last entry's bytes; they are never kept).
  let tailStart = file.size - EOCD_MIN;
  let tail = await bytesAt(file, tailStart, file.size);
  let view = new DataView(tail.buffer);
  let at = view.getUint32(0, true) === EOCD && view.getUint16(20, true) === 0 ? 0 : -1;
  if (at < 0) {
    tailStart = Math.max(0, file.size - EOCD_MIN - COMMENT_MAX);
    tail = await bytesAt(file, tailStart, file.size);
    view = new DataView(tail.buffer);
    for (let i = tail.length - EOCD_MIN; i >= 0; i--) {
      if (view.getUint32(i, true) === EOCD && i + EOCD_MIN + view.getUint16(i + 20, true) === tail.length) {
        at = i;
        break;
      }
    }
  }
  if (at < 0) throw notZip();
  let entries = view.getUint16(at + 10, true);
  let size = view.getUint32(at + 12, true);
  let offset = view.getUint32(at + 16, true);
  if (entries === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    // ZIP64 (archives over 4 GB or 65,535 files): the locator sits just before the record.
    const locatorAt = tailStart + at - 20;
    if (locatorAt < 0) throw notZip();
    const locator = new DataView((await bytesAt(file, locatorAt, locatorAt + 20)).buffer);
    if (locator.getUint32(0, true) !== ZIP64_LOCATOR) throw notZip();
    const recordAt = u64(locator, 8);
    if (recordAt + 56 > file.size) throw notZip();
    const record = new DataView((await bytesAt(file, recordAt, recordAt + 56)).buffer);
    if (record.getUint32(0, true) !== ZIP64_EOCD) throw notZip();
    entries = u64(record, 32);
    size = u64(record, 40);
    offset = u64(record, 48);
  }
  if (offset + size > file.size) throw notZip();
  if (size > MAX_DIRECTORY_BYTES) {
    throw new ArchiveError("too_many_files", "This zip lists more files than an X archive has.");
  }
  return { entries, offset, size };
}

function unsafeName(name) {
  const path = name.replace(/\\/g, "/");
  return path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.split("/").includes("..");
}

/** Every entry of the central directory: {name, flags, method, crc, compressed, size, localOffset}. */
function* walkDirectory(bytes, count) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder();
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL) throw notZip();
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > bytes.length) throw notZip();
    const entry = {
      name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressed: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    };
    // ZIP64 extended information: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (id === 0x0001) {
        let field = extra + 4;
        for (const key of ["size", "compressed", "localOffset"]) {
          if (entry[key] === 0xffffffff && field + 8 <= extra + 4 + length) {
            entry[key] = u64(view, field);
            field += 8;
          }
        }
      }
      extra += 4 + length;
    }
    yield entry;
    at = end;
  }
}

// X's zip holds data/ at its root; one re-zipped after unpacking has it inside one folder (never __MACOSX's).
const TAKEN = /^(?:(?!__MACOSX\/)[^/]+\/)?data\/(account\.js|like(?:-part[1-9][0-9]{0,3})?\.js)$/;

/** The bundle's member name of a zip entry we take (account.js, like*.js), or null for anything else. */
function memberOf(name) {
  const found = TAKEN.exec(name);
  return found ? found[1] : null;
}

function partNumber(member) {
  const found = LIKE_PART.exec(member);
  return found ? Number(found[1] ?? 0) : -1;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(crc, chunk) {
  let c = ~crc >>> 0;
  for (let i = 0; i < chunk.length; i++) c = CRC_TABLE[(c ^ chunk[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function bomb() {
  return new ArchiveError(
    "zip_bomb",
    "This zip unpacks to more than it says it holds (or to more than 1 GB of likes): it isn't a genuine X archive.",
  );
}

/** An entry's bytes, inflated, never past its declared size nor past `budget` bytes. */
async function readEntry(file, entry, budget, onBytes) {
  const header = new DataView((await bytesAt(file, entry.localOffset, entry.localOffset + 30)).buffer);
  if (header.byteLength < 30 || header.getUint32(0, true) !== LOCAL) throw notZip();
  const start = entry.localOffset + 30 + header.getUint16(26, true) + header.getUint16(28, true);
  if (start + entry.compressed > file.size) throw notZip();
  let stream = file.slice(start, start + entry.compressed).stream();
  if (entry.method === 8) stream = stream.pipeThrough(inflater());
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  let crc = 0;
  try {
    for (;;) {
      let step;
      try {
        step = await reader.read();
      } catch {
        throw new ArchiveError("damaged", `${entry.name} in this zip is damaged: download the archive again.`);
      }
      if (step.done) break;
      total += step.value.length;
      // Stop at once past what the directory declared: a bomb never gets to fill memory.
      if (total > entry.size || total > budget) throw bomb();
      crc = crc32(crc, step.value);
      chunks.push(step.value);
      onBytes(step.value.length);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  if (total !== entry.size || crc !== entry.crc) {
    throw new ArchiveError("damaged", `${entry.name} in this zip is damaged: download the archive again.`);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

function inflater() {
  try {
    return new DecompressionStream("deflate-raw");
  } catch {
    throw new ArchiveError(
      "unsupported_browser",
      "This browser can't open zip files. Use a recent Chrome, Edge, Firefox or Safari, or pick the archive's data/like.js.",
    );
  }
}

function looksLikeLikes(bytes) {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).replace(/^\uFEFF/, "").trimStart();
  return head.startsWith(LIKE_START);
}

/**
 * The members of the bundle, read from `file` (an X archive's zip, or a bare like.js): [{name, bytes}],
 * account.js first, then like.js, like-part1.js, ... `onProgress({stage: "reading", entries, of, bytes})`.
 */
export async function readArchive(file, onProgress = () => {}) {
  let directory;
  try {
    directory = await findDirectory(file);
  } catch (error) {
    if (error instanceof ArchiveError && error.code === "not_a_zip") return readBareLikes(file, onProgress);
    throw error;
  }
  const listed = await bytesAt(file, directory.offset, directory.offset + directory.size);
  const taken = new Map();
  for (const entry of walkDirectory(listed, directory.entries)) {
    if (unsafeName(entry.name)) {
      throw new ArchiveError("unsafe_name", `This zip holds a file named "${entry.name.slice(0, 80)}", outside its own folder: it isn't a genuine X archive.`);
    }
    const member = memberOf(entry.name);
    if (member === null) continue; // media, DMs and the rest stay unread
    if (taken.has(member)) {
      const both = `${taken.get(member).name} and ${entry.name}`;
      throw new ArchiveError("duplicate", `This zip holds two ${member} (${both}): choose the zip X sent you.`);
    }
    if (entry.flags & 0x1) {
      throw new ArchiveError("encrypted", `${entry.name} in this zip is encrypted. X's archives are not: use the zip X sent you.`);
    }
    if (entry.method !== 0 && entry.method !== 8) {
      throw new ArchiveError("unsupported", `${entry.name} is compressed in a way this page can't read (method ${entry.method}).`);
    }
    if (entry.method === 0 && entry.compressed !== entry.size) throw notZip();
    taken.set(member, entry);
  }
  if (!taken.has("like.js")) {
    throw new ArchiveError("no_likes", "This zip has no data/like.js: it isn't an X archive, or not a whole one.");
  }
  const declared = [...taken.values()].reduce((sum, entry) => sum + entry.size, 0);
  if (declared > MAX_UNPACKED_BYTES) throw bomb();

  const order = [...taken.keys()].sort((a, b) => partNumber(a) - partNumber(b)); // account.js (-1) first
  const members = [];
  let bytes = 0;
  let budget = MAX_UNPACKED_BYTES;
  onProgress({ stage: "reading", entries: 0, of: order.length, bytes });
  for (const member of order) {
    const entry = taken.get(member);
    const data = await readEntry(file, entry, budget, (n) => {
      bytes += n;
      onProgress({ stage: "reading", entries: members.length, of: order.length, bytes });
    });
    budget -= data.length;
    if (member !== ACCOUNT && !looksLikeLikes(data)) {
      throw new ArchiveError("not_likes", `${entry.name} in this zip doesn't hold likes as X writes them.`);
    }
    members.push({ name: member, bytes: data });
    onProgress({ stage: "reading", entries: members.length, of: order.length, bytes });
  }
  return members;
}

/** A like.js picked on its own (not a zip): taken as the bundle's like.js when it looks like one. */
async function readBareLikes(file, onProgress) {
  if (!looksLikeLikes(await bytesAt(file, 0, 64))) throw notZip();
  if (file.size > MAX_UNPACKED_BYTES) {
    throw new ArchiveError("too_big", "This like.js is larger than 1 GB, more than an import takes.");
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  onProgress({ stage: "reading", entries: 1, of: 1, bytes: bytes.length });
  return [{ name: "like.js", bytes }];
}

// --- the bundle: ustar, then gzip ------------------------------------------------------------------------

const BLOCK = 512;
const encoder = new TextEncoder();

function putString(header, at, length, text) {
  const bytes = encoder.encode(text);
  if (bytes.length > length) throw new Error(`tar field too long: ${text}`);
  header.set(bytes, at);
}

/** An octal number as tar writes it: zero-padded to `length - 1` digits, then NUL. */
function putOctal(header, at, length, value) {
  putString(header, at, length, value.toString(8).padStart(length - 1, "0") + "\0");
}

function ustarHeader(name, size, mtime) {
  const header = new Uint8Array(BLOCK);
  putString(header, 0, 100, name);
  putOctal(header, 100, 8, 0o644); // mode
  putOctal(header, 108, 8, 0); // uid
  putOctal(header, 116, 8, 0); // gid
  putOctal(header, 124, 12, size);
  putOctal(header, 136, 12, mtime);
  header.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  header[156] = 0x30; // typeflag '0': a regular file
  putString(header, 257, 6, "ustar\0");
  putString(header, 263, 2, "00");
  putOctal(header, 329, 8, 0); // devmajor
  putOctal(header, 337, 8, 0); // devminor
  let sum = 0;
  for (const byte of header) sum += byte;
  putString(header, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return header;
}

/** The tar (uncompressed) of `members` ([{name, bytes}], in bundle order), as Blob parts. */
export function tarParts(members, mtime = Math.floor(Date.now() / 1000)) {
  const parts = [];
  for (const { name, bytes } of members) {
    parts.push(ustarHeader(name, bytes.length, mtime), bytes);
    const pad = (BLOCK - (bytes.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(2 * BLOCK)); // the end of the archive: two zero blocks
  return parts;
}

/** The bundle: the gzip-compressed tar of `members`, as a Blob of type application/gzip. */
export async function writeBundle(members, mtime) {
  const tar = new Blob(tarParts(members, mtime)).stream().pipeThrough(new CompressionStream("gzip"));
  const gzipped = await new Response(tar).blob();
  return new Blob([gzipped], { type: "application/gzip" });
}
