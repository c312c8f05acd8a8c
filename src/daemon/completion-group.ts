/**
 * Group commit of downloads: the `complete` of every file made durable at the same moment goes
 * into one ledger transaction (`Ledger.completeMany`). With SQLite each transaction is a
 * synchronous fsync on the event loop; one per file was about half the daemon's time (issue 15).
 *
 * Files reach this point together when their renames shared one folder fsync (`DirSync`): their
 * continuations run in one turn of the event loop. Nothing waits for a group to fill: the first
 * completion of a turn schedules the group for the end of that turn (`setImmediate`), and while a
 * group's transaction runs (PostgreSQL: a round trip) the next one gathers. A file is therefore
 * recorded as soon as it would have been alone, and its callback starts as soon as its group is
 * committed.
 *
 * Order of durability is unchanged: a file is handed in only after its bytes, its rename and its
 * folder were fsynced, so the ledger never says "downloaded" before the file is on disk.
 */
import { LeaseLostError } from '../errors.js';
import type { Claim, Completion, FileRecord, Ledger } from '../ledger/ledger.js';

interface Waiting {
  completion: Completion;
  resolve: (record: FileRecord) => void;
  reject: (err: unknown) => void;
}

export class CompletionGroup {
  readonly #ledger: Ledger;
  readonly #now: () => number;
  #waiting: Waiting[] = [];
  #scheduled = false;
  #writing = false;

  constructor(ledger: Ledger, now: () => number) {
    this.#ledger = ledger;
    this.#now = now;
  }

  /**
   * Records `claim` as downloaded to `localPath` (already durable) in the next group. Resolves
   * with the row; rejects with `LeaseLostError` when the claim was lost (as `Ledger.complete`),
   * or with the store's error when the group's transaction failed (none of it was recorded).
   */
  complete(claim: Claim, localPath: string): Promise<FileRecord> {
    return new Promise<FileRecord>((resolve, reject) => {
      this.#waiting.push({ completion: { claim, localPath }, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#write();
    });
  }

  async #write(): Promise<void> {
    const group = this.#waiting;
    this.#waiting = [];
    if (group.length === 0) return;
    this.#writing = true;
    try {
      const records = await this.#ledger.completeMany(
        group.map((w) => w.completion),
        { now: this.#now() },
      );
      group.forEach((w, i) => {
        const record = records[i] ?? null;
        if (record === null) w.reject(new LeaseLostError(w.completion.claim.record.remotePath));
        else w.resolve(record);
      });
    } catch (err) {
      for (const w of group) w.reject(err);
    } finally {
      this.#writing = false;
      if (this.#waiting.length > 0) this.#schedule();
    }
  }
}

/** One group per fetch context (one per daemon run): every source of the daemon shares it. */
const groups = new WeakMap<object, CompletionGroup>();

/** The completion group of `owner` (made on first use). */
export function completionGroupOf(owner: object, ledger: Ledger, now: () => number): CompletionGroup {
  let group = groups.get(owner);
  if (group === undefined) {
    group = new CompletionGroup(ledger, now);
    groups.set(owner, group);
  }
  return group;
}
