/**
 * The fetch of one claim: download the claimed row (.part -> check -> rename, under a renewed
 * lease) and record the outcome in the ledger (`complete`, grouped with the other files made
 * durable at the same moment, or `fail` with a retry time or parked).
 * Never throws: every outcome is a return value, an event and a log line.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  errorText,
  FtpConnectError,
  FtpError,
  FtpReplyError,
  FtpSizeMismatchError,
  FtpSocketError,
  FtpTimeoutError,
  IncompleteFileError,
  InvalidArgumentError,
  LeaseLostError,
  LocalIoError,
  toError,
  UnsafePathError,
} from '../errors.js';
import type { Claim, FileRecord, Ledger } from '../ledger/ledger.js';
import { LOG_MESSAGES } from '../observe/events.js';
import { renderTemplate } from '../radar/template.js';
import { linkedController } from '../util/abort.js';
import { remoteBaseName } from '../util/remote-path.js';
import { backoffDelayMs } from './backoff.js';
import { completionGroupOf } from './completion-group.js';
import type { DownloadedEvent, FailedEvent } from './events.js';
import type { SourceRuntime } from './source.js';
import { verifyDownload } from './verify.js';
import { partNameFor, removeStaleParts } from '../ftp/download.js';

/** What a fetch needs from the daemon around it. */
export interface FetchContext {
  ledger: Ledger;
  leaseMs: number;
  /** Clock (epoch ms) for ledger times. */
  now: () => number;
  /** Aborted at the stop deadline: in-flight transfers end, their `.part` stays for a resume. */
  abortTransfers: AbortSignal;
  onDownloaded(event: DownloadedEvent): void;
  onRetry(event: FailedEvent): void;
  onFailed(event: FailedEvent): void;
  /** The download could not reach the server at all (see `isServerUnreachable`). */
  onServerUnreachable?(err: Error): void;
}

/** `complete`d row, `'failed'` (recorded as retry or parked), or null (stopped / lease lost). */
export type FetchOutcome = FileRecord | 'failed' | null;

/** Errors no retry can fix. */
export function isPermanent(err: Error): boolean {
  return (
    err instanceof UnsafePathError ||
    err instanceof InvalidArgumentError ||
    (err instanceof LocalIoError && !err.transient)
  );
}

/**
 * The attempt broke down on the way, not on the file: the connection could not be opened or
 * logged in (a `421` included), a reply or the data stopped coming, a socket was reset. The server
 * may never have seen the RETR, so such a failure says nothing about the file.
 */
export function isConnectionTrouble(err: Error): boolean {
  return (
    err instanceof FtpTimeoutError ||
    err instanceof FtpSocketError ||
    err instanceof FtpConnectError ||
    (err instanceof FtpReplyError && err.replyCode === 421)
  );
}

/**
 * The connection for the download could not be opened or logged in: refused, reset, timed out,
 * `421`. Like a listing that fails, this says the server is down or restarting, not anything
 * about the file: the source's other ready files should wait instead of spending their attempts.
 */
export function isServerUnreachable(err: Error): boolean {
  return err instanceof FtpError && err.command === 'connect' && isConnectionTrouble(err);
}

/**
 * Whether this failed attempt (the `attempts`-th) parks the row. After `maxAttempts` attempts a
 * row is parked on a failure that came from the server or the disk; connection trouble alone
 * gets further attempts, up to twice `maxAttempts` in all. So a file the server refuses is parked
 * with the server's refusal (a `550`), never with a timeout that happened to hit its last
 * attempt, and a flaky network does not park files that are fine.
 */
export function parksAfter(err: Error, attempts: number, maxAttempts: number): boolean {
  if (isPermanent(err)) return true;
  if (isConnectionTrouble(err)) return attempts >= 2 * maxAttempts;
  return attempts >= maxAttempts;
}

/**
 * The bytes are not the remote file's complete current version: it is still being uploaded
 * (verify failed) or grew while we read it. Not a failure: the row waits for its next listing.
 */
function isStillGrowing(err: Error): boolean {
  return (
    err instanceof IncompleteFileError || (err instanceof FtpSizeMismatchError && err.received > err.expected)
  );
}

/**
 * Runs immediately before the `.part` takes its final name: the completeness check, then the
 * lease (fencing): an instance that was paused past its lease learns it here and publishes
 * nothing, since the row now belongs to another instance (or was superseded). By then every byte
 * is in and fdatasynced and the connection is back in the client's pool: `onTransferred` says so
 * here for a client without `onReceived` (SFTP, stand-ins); the FTP client said it before the
 * fdatasync.
 */
function beforeCommitOf(
  ctx: FetchContext,
  src: SourceRuntime,
  claim: Claim,
  onTransferred: (() => void) | undefined,
): (partPath: string) => Promise<void> {
  const rec = claim.record;
  return async (partPath) => {
    onTransferred?.();
    const reason = await verifyDownload(src.config.verify, partPath, {
      remotePath: rec.remotePath,
      size: rec.size,
    });
    if (reason !== null) throw new IncompleteFileError(rec.remotePath, reason);
    const ours = await ctx.ledger.renewLease(claim, { now: ctx.now(), leaseMs: ctx.leaseMs });
    if (!ours) throw new LeaseLostError(rec.remotePath);
  };
}

/** With 'auto': feeds each transfer's received bytes to the source's controller. */
function progressFeed(src: SourceRuntime): { onProgress?: (bytes: number) => void } {
  const adaptive = src.adaptive;
  if (adaptive === null) return {};
  let seen = 0;
  return {
    onProgress: (bytes) => {
      adaptive.addBytes(Math.max(0, bytes - seen));
      seen = bytes;
    },
  };
}

/** Renews the claim's lease every third of it; a lease found lost aborts `lease`. */
function renewLeaseWhileRunning(
  ctx: FetchContext,
  src: SourceRuntime,
  claim: Claim,
  lease: AbortController,
): NodeJS.Timeout {
  const { ledger, leaseMs } = ctx;
  const remotePath = claim.record.remotePath;
  return setInterval(
    () => {
      ledger.renewLease(claim, { now: ctx.now(), leaseMs }).then(
        (ok) => {
          if (!ok) lease.abort(new LeaseLostError(remotePath));
        },
        (err: unknown) => src.log.warn({ err, remotePath }, 'cannot renew lease'),
      );
    },
    Math.max(1000, leaseMs / 3),
  );
}

/**
 * Downloads one claimed row and records the outcome. Never throws. `onTransferred` is told when
 * the file has arrived and the connection is free (before the fdatasync, the rename, the folder
 * fsync and the ledger commit): the download pool then lets the next file start while this one
 * is made durable and recorded. It must not throw (it is the client's `onReceived`).
 */
export async function fetchClaim(
  ctx: FetchContext,
  src: SourceRuntime,
  claim: Claim,
  onTransferred?: () => void,
): Promise<FetchOutcome> {
  const { ledger } = ctx;
  const rec = claim.record;
  const started = Date.now();
  const link = linkedController([ctx.abortTransfers]);
  const lease = link.controller;
  const signal = link.signal;
  let partPath: string | null = null;
  const renew = renewLeaseWhileRunning(ctx, src, claim, lease);
  try {
    const name = remoteBaseName(rec.remotePath);
    const target = renderTemplate(src.config.localLayout, {
      source: src.config.name,
      remotePath: rec.remotePath,
      remoteRoot: src.config.remotePath,
      fallbackTime: new Date(rec.mtime ?? ctx.now()),
    });
    const localDir = join(src.config.localDir, target.dir);
    // One .part per row (a version), and per claim on a shared ledger: two writers of one
    // target never share one; a SQLite ledger's single process resumes its own.
    const partKey = ledger.backend === 'sqlite' ? `r${rec.id}` : `r${rec.id}-${claim.token.slice(0, 8)}`;
    partPath = join(localDir, partNameFor(target.name, partKey));
    const localPath = await src.client.downloadFile(
      {
        path: rec.remotePath,
        name,
        size: rec.size,
        modifiedAt: rec.mtime === null ? null : new Date(rec.mtime),
      },
      localDir,
      {
        localName: target.name,
        expectedSize: rec.size,
        signal,
        partKey,
        // the slot frees once the bytes are in, beside the fdatasync (see DownloadPool)
        ...(onTransferred === undefined ? {} : { onReceived: onTransferred }),
        beforeCommit: beforeCommitOf(ctx, src, claim, onTransferred),
        ...progressFeed(src),
      },
    );
    src.adaptive?.fileDone(src.client.poolStats?.limit ?? Infinity, Date.now(), src.queue.size > 0);
    // With the other files made durable at this moment: one ledger transaction for the group.
    const done = await completionGroupOf(ctx, ledger, ctx.now).complete(claim, localPath);
    // An earlier attempt (another instance's, or one that lost its claim) may have left a .part.
    if (rec.attempts > 0 || rec.lastError !== null) await removeStaleParts(localDir, target.name);
    const durationMs = Date.now() - started;
    src.log.info(
      { remotePath: rec.remotePath, localPath, size: rec.size, durationMs },
      LOG_MESSAGES.downloaded,
    );
    ctx.onDownloaded({ source: src.config.name, record: done, localPath, durationMs });
    return done;
  } catch (caught) {
    const err = toError(caught);
    // A .part of a lost claim (taken over, or superseded by a newer version) can never be
    // resumed by anyone: it goes now.
    if ((err instanceof LeaseLostError || signal.reason instanceof LeaseLostError) && partPath !== null) {
      await unlink(partPath).catch(() => undefined);
    }
    return await recordFailure(ctx, src, claim, err, signal);
  } finally {
    clearInterval(renew);
    link.dispose();
  }
}

/** Records a failed fetch: stopped and lease-lost rows are left as they are; others retry or park. */
async function recordFailure(
  ctx: FetchContext,
  src: SourceRuntime,
  claim: Claim,
  err: Error,
  signal: AbortSignal,
): Promise<FetchOutcome> {
  const rec = claim.record;
  if (ctx.abortTransfers.aborted) {
    // Stopping: the row stays `downloading`; the next start resumes it (its .part is kept).
    src.log.info({ remotePath: rec.remotePath }, 'download cancelled by stop');
    return null;
  }
  if (err instanceof LeaseLostError || signal.reason instanceof LeaseLostError) {
    src.log.warn({ remotePath: rec.remotePath }, LOG_MESSAGES.leaseLost);
    return null;
  }
  if (isStillGrowing(err)) {
    try {
      await ctx.ledger.requeue(claim, errorText(err), { now: ctx.now() });
    } catch (ledgerErr) {
      src.log.error({ err: ledgerErr, remotePath: rec.remotePath }, 'cannot record the requeue');
    }
    src.log.info(
      { remotePath: rec.remotePath, reason: err.message },
      'download not complete: waiting for the upload',
    );
    return null;
  }
  // Before the ledger write: the pool must not claim the next file for a server that is down.
  if (isServerUnreachable(err)) ctx.onServerUnreachable?.(err);
  const attempts = rec.attempts + 1;
  const final = parksAfter(err, attempts, src.config.maxAttempts);
  // A 550 (file gone?) retries after the backoff too: every cycle lists before it claims, so the
  // next listing records a file that really vanished before any retry.
  const retryAt = final ? null : ctx.now() + backoffDelayMs(src.config.backoff, attempts);
  try {
    const kept = await ctx.ledger.fail(claim, errorText(err), { now: ctx.now(), retryAt });
    if (!kept) return null;
  } catch (ledgerErr) {
    src.log.error({ err: ledgerErr, remotePath: rec.remotePath }, 'cannot record the failure');
    return null;
  }
  const info: FailedEvent = {
    source: src.config.name,
    remotePath: rec.remotePath,
    attempts,
    error: err,
    retryAt,
  };
  if (final) {
    src.log.error({ err, remotePath: rec.remotePath, attempts }, LOG_MESSAGES.failed);
    ctx.onFailed(info);
  } else {
    src.log.warn(
      { err, remotePath: rec.remotePath, attempts, retryAt: new Date(retryAt ?? 0) },
      LOG_MESSAGES.retry,
    );
    ctx.onRetry(info);
  }
  return 'failed';
}
