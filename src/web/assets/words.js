// A subscription's status in words a person reads, with what the page should do about it.

const number = new Intl.NumberFormat();

function likes(n) {
  return `${number.format(n)} ${n === 1 ? "like" : "likes"}`;
}

/** A local clock time: "14:05" today, "01:00 tomorrow", else with the weekday ("Tue 01:00"). */
export function clockTime(iso, now = new Date()) {
  const when = new Date(iso);
  if (!iso || Number.isNaN(when.getTime())) return null;
  const time = when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (when.toDateString() === now.toDateString()) return time;
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  if (when.toDateString() === tomorrow.toDateString()) return `${time} tomorrow`;
  return `${when.toLocaleDateString(undefined, { weekday: "short" })} ${time}`;
}

const PAUSED_BECAUSE = {
  daily_budget: "today's read budget is spent",
  monthly_budget: "this month's read budget is spent",
  x_usage_cap: "X's limit on reads for today is reached",
};

/** Syncing is paused for everyone (`sync_paused`): one polite sentence, the time on the visitor's clock. */
export function pausedWords(paused, now = new Date()) {
  const when = new Date(paused?.until);
  if (!paused || Number.isNaN(when.getTime()) || when <= now) return null;
  const at =
    when - now > 6 * 86400000
      ? when.toLocaleString(undefined, { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" })
      : clockTime(paused.until, now);
  const why = PAUSED_BECAUSE[paused.reason] ?? "the read budget is spent";
  return `Syncing is paused until ${at} — ${why}. Your likes are safe; new ones arrive after that.`;
}

/**
 * When X is next asked: a failed sync's retry while it lies ahead, else the schedule's next sync (an overdue
 * retry may have gone to the dead-letter queue; the schedule takes over then).
 */
function nextAttempt(sub, now) {
  return sub.retry_at && new Date(sub.retry_at) > now ? sub.retry_at : sub.next_sync_at;
}

/**
 * {title, detail, busy, poll, retry}: busy shows a spinner, poll keeps refreshing the status, retry offers
 * "Try again" to the owner (subscribing again re-arms a sync that X refused or that failed).
 */
export function describe(sub, now = new Date()) {
  const name = `@${sub.username}`;
  const count = Number.isInteger(sub.like_count) ? sub.like_count : 0;
  const soFar = count > 0 ? `${likes(count)} so far` : null;
  const at = clockTime(sub.next_sync_at, now);
  switch (sub.status) {
    case "pending":
      return { title: "Waiting for the first sync…", detail: soFar, busy: true, poll: true };
    case "syncing":
      return { title: soFar ?? "Fetching the first likes…", detail: "Still syncing with X.", busy: true, poll: true };
    case "ready":
      return count > 0
        ? { title: `${likes(count)}`, detail: sub.history_complete ? "All that X lets us reach." : null, poll: false }
        : { title: `X has no likes of ${name} to show yet`, detail: "Like a few posts, then come back.", poll: false };
    case "rate_limited":
      return {
        title: at ? `Waiting for X's rate limit until ${at}` : "Waiting for X's rate limit",
        detail: soFar,
        busy: true,
        poll: true,
      };
    case "usage_capped":
      if (pausedWords(sub.sync_paused, now)) {
        // The pause line above says why and until when, for everyone: not said twice.
        return { title: soFar ?? "Waiting to sync", detail: "Syncing goes on when the pause ends.", poll: true };
      }
      return {
        title: at ? `Today's X read budget is spent; continuing at ${at}` : "Today's X read budget is spent",
        detail: soFar,
        poll: true,
      };
    case "forbidden":
      return {
        title: "X keeps these likes private",
        detail: `X shows likes only to the account that made them, and this app isn't signed in as ${name}.`,
        poll: false,
        retry: true,
      };
    case "not_found":
      return { title: `X has no user ${name}`, detail: "Check the spelling and try again.", poll: false, retry: true };
    case "rejected":
      // X answered 400: how we asked is wrong, not the account. Asking the same way again cannot help soon.
      return {
        title: "X turned down the way we asked for these likes",
        detail: `That is a fault on our side, not ${name}'s. We'll try again ${at ? `at ${at}` : "later"}.`,
        poll: false,
        retry: true,
      };
    case "error": {
      const again = clockTime(nextAttempt(sub, now), now);
      return {
        title: "The last sync failed",
        detail: again ? `It will be tried again at ${again}.` : "It will be tried again.",
        poll: true,
        retry: true,
      };
    }
    case "reconnect_needed":
      // X refused the account's token (revoked, or expired for good): only its owner can connect it again
      // (the owner's panel offers Reconnect).
      return {
        title: "X no longer lets random-likes read these likes",
        detail: "Its owner can connect again to carry on; the likes copied so far are kept.",
        poll: false,
      };
    case "deleting":
      return { title: `${name} is being unsubscribed`, detail: "Try again in a minute.", poll: false, retry: true };
    default:
      return { title: "Syncing…", detail: soFar, busy: true, poll: true };
  }
}
