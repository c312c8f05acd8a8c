/**
 * The clock of one FTP server, as its listings show it.
 *
 * MLSD and MDTM times are UTC (RFC 3659). LIST times are the server's wall clock in whatever zone
 * it renders (vsftpd `use_localtime=YES`, ProFTPD `TimesGMT off`, pyftpdlib `use_gmt_times=False`;
 * the RMA radars' servers list in UTC-3). Read as UTC, such a time is hours off: a file still
 * being written looks hours old (and passes minAge at first sight) or lies in the future (and
 * its `.part` is never resumed). Every LIST time goes through `toUtc` before the daemon uses it.
 *
 * `serverTimeZone`:
 * - an IANA name (`America/Argentina/Buenos_Aires`): the zone's offset at that wall time,
 *   daylight saving included;
 * - `'UTC'`: LIST times are taken as they are;
 * - `'auto'` (default): the offset is learned by comparing one listed file's LIST time with its
 *   MDTM, rounded to a quarter hour, re-learned every `relearnMs` (daylight saving) and as soon as
 *   a corrected time lies in the future (the offset stopped agreeing). A server without MDTM gets
 *   one warning and its times are taken as UTC. Not every server keeps MDTM in UTC (pyftpdlib
 *   with `use_gmt_times=False` renders it in local time too), so a second witness is our own
 *   clock: a file that changed between two listings was modified between them, and its new LIST
 *   time then pins the offset (`observeChange`); when the two disagree, our clock wins.
 */
import type { Logger } from 'pino';

export type ServerTimeZone = 'auto' | 'UTC' | (string & {});

/** MDTM of one remote file (UTC), or null when the server has no MDTM. */
export type MdtmProbe = (remotePath: string, signal?: AbortSignal) => Promise<Date | null>;

/** A listed file whose LIST time may teach the offset. */
export interface ClockCandidate {
  remotePath: string;
  /** The LIST time read as if it were UTC (epoch ms). */
  wallMs: number;
  precisionMs: number;
}

const MINUTE_MS = 60_000;
const QUARTER_HOUR_MS = 15 * MINUTE_MS;
/** How far in the future a corrected LIST time may lie before the offset is doubted (clock skew). */
const FUTURE_TOLERANCE_MS = 2 * MINUTE_MS;
/**
 * While the zone is not confirmed, a LIST time read with the offset learned so far may be this
 * much too early: real zones lie within UTC-12..UTC+14, and the file may be in UTC-12.
 */
export const UNKNOWN_ZONE_SPAN_MS = 12 * 60 * MINUTE_MS;
/** Re-learn the offset this often: daylight saving changes it twice a year. */
export const RELEARN_EVERY_MS = 3_600_000;

/** True when `name` is `'auto'`, `'UTC'` or a time zone this runtime knows. */
export function isValidServerTimeZone(name: string): boolean {
  if (name === 'auto' || name === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Offset of `zone` from UTC at the instant `utcMs` (ms; UTC-3 gives -10 800 000). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - (utcMs - (utcMs % 1000));
}

/** The UTC instant a wall time of `zone` names (the earlier one in a daylight-saving overlap). */
export function wallToUtc(zone: string, wallMs: number): number {
  let utc = wallMs - zoneOffsetMs(zone, wallMs);
  utc = wallMs - zoneOffsetMs(zone, utc);
  return utc;
}

export class ServerClock {
  readonly zone: ServerTimeZone;
  readonly #probe: MdtmProbe | null;
  readonly #log: Logger;
  readonly #relearnMs: number;
  /** Learned offset (auto), or null before the first successful probe. */
  #offsetMs: number | null = null;
  #learnedAt = -Infinity;
  #doubted = false;
  #warnedNoMdtm = false;
  /** The offset came from changes seen by our own clock: an MDTM equal to LIST no longer overrides it. */
  #fromChanges = false;
  /** The last offset MDTM gave (null before any). */
  #mdtmOffsetMs: number | null = null;
  /** The offset files changing between listings point at, and how many agreed. */
  #changeWitness: { offsetMs: number; count: number } | null = null;

  constructor(zone: ServerTimeZone, probe: MdtmProbe | null, log: Logger, relearnMs = RELEARN_EVERY_MS) {
    this.zone = zone;
    this.#probe = probe;
    this.#log = log;
    this.#relearnMs = relearnMs;
  }

  /** The learned offset (auto), for the status page and tests; null when not (yet) known. */
  get learnedOffsetMs(): number | null {
    return this.#offsetMs;
  }

  /**
   * True when LIST times are known to be corrected right: a configured zone, an MDTM that differs
   * from LIST (a real UTC witness), or files that changed between listings. An MDTM equal to
   * LIST proves nothing (vsftpd and pyftpdlib render MDTM in their local time too), nor does a
   * server without MDTM: until then a LIST time may be hours off (see `UNKNOWN_ZONE_SPAN_MS`).
   */
  get confirmed(): boolean {
    return this.zone !== 'auto' || this.#fromChanges || (this.#mdtmOffsetMs ?? 0) !== 0;
  }

  /**
   * With 'auto': learns the offset from one candidate when it is unknown, due, or doubted. Call
   * it with each listing's LIST-timed files before `toUtc`. A failed probe keeps the old offset.
   */
  async prepare(candidates: readonly ClockCandidate[], now: number, signal?: AbortSignal): Promise<void> {
    if (this.zone !== 'auto' || candidates.length === 0) return;
    if (!this.#doubted && now - this.#learnedAt < this.#relearnMs) return;
    // A minute-precision time pins the offset to the minute; a date-only one cannot. The oldest
    // such file is the least likely to be changing between our LIST and our MDTM.
    const usable = candidates.filter((c) => c.precisionMs <= MINUTE_MS);
    const pick = usable.reduce<ClockCandidate | undefined>(
      (best, c) => (best === undefined || c.wallMs < best.wallMs ? c : best),
      undefined,
    );
    if (pick === undefined) return;
    this.#learnedAt = now;
    this.#doubted = false;
    if (this.#probe === null) return this.#noMdtm(pick.remotePath);
    let mdtm: Date | null;
    try {
      mdtm = await this.#probe(pick.remotePath, signal);
    } catch (err) {
      this.#log.warn({ err, remotePath: pick.remotePath }, 'cannot learn the server clock (MDTM failed)');
      return;
    }
    if (mdtm === null) return this.#noMdtm(pick.remotePath);
    // LIST floors to the minute: wall - mdtm lies in (offset - 60 s, offset].
    const offset =
      Math.round((pick.wallMs - mdtm.getTime() + MINUTE_MS / 2) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    this.#mdtmOffsetMs = offset;
    if (this.#fromChanges) return;
    if (offset !== this.#offsetMs) {
      this.#log.info(
        {
          offsetMinutes: offset / MINUTE_MS,
          previousOffsetMinutes: this.#offsetMs === null ? null : this.#offsetMs / MINUTE_MS,
          remotePath: pick.remotePath,
        },
        'learned the zone of LIST times (LIST time vs MDTM)',
      );
    }
    this.#offsetMs = offset;
  }

  /**
   * With 'auto': a file's LIST time changed between a listing at `sinceMs` and one at `nowMs`, so
   * it was modified in between (by our clock). Learns the offset from it when the listings were
   * close enough to pin it (< 10 min apart).
   */
  observeChange(wallMs: number, precisionMs: number, sinceMs: number, nowMs: number): void {
    if (this.zone !== 'auto' || precisionMs > MINUTE_MS || nowMs - sinceMs > 10 * MINUTE_MS) return;
    // An MDTM that disagrees with LIST is a real UTC witness: it stands.
    if (this.#mdtmOffsetMs !== null && this.#mdtmOffsetMs !== 0) return;
    // wall = floor_minute(m + offset) with m in (since, now]: offset ≈ wall - midpoint + 30 s.
    const offset =
      Math.round((wallMs - (sinceMs + nowMs) / 2 + MINUTE_MS / 2) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    // Real zones lie within UTC-12..UTC+14; anything else is an upload that kept an old mtime.
    if (offset < -12 * 60 * MINUTE_MS || offset > 14 * 60 * MINUTE_MS) return;
    // One change could be such an upload too: two observations must agree.
    if (this.#changeWitness?.offsetMs === offset) this.#changeWitness.count++;
    else this.#changeWitness = { offsetMs: offset, count: 1 };
    if (this.#changeWitness.count < 2 || offset === this.#offsetMs) return;
    this.#log.info(
      {
        offsetMinutes: offset / MINUTE_MS,
        previousOffsetMinutes: this.#offsetMs === null ? null : this.#offsetMs / MINUTE_MS,
      },
      'learned the zone of LIST times (files changed between two listings)',
    );
    this.#offsetMs = offset;
    this.#learnedAt = nowMs;
    this.#fromChanges = true;
  }

  /** A LIST time (wall clock read as UTC) as UTC ms. */
  toUtc(wallMs: number, now: number): number {
    let utc: number;
    if (this.zone === 'UTC') utc = wallMs;
    else if (this.zone === 'auto') utc = wallMs - (this.#offsetMs ?? 0);
    else utc = wallToUtc(this.zone, wallMs);
    if (this.zone === 'auto' && utc > now + FUTURE_TOLERANCE_MS) this.#doubted = true;
    return utc;
  }

  #noMdtm(remotePath: string): void {
    if (this.#warnedNoMdtm) return;
    this.#warnedNoMdtm = true;
    this.#log.warn(
      { remotePath },
      "the server has no MDTM: cannot learn the zone of its LIST times, taking them as UTC; set serverTimeZone (e.g. 'America/Argentina/Buenos_Aires') if they are not",
    );
  }
}
