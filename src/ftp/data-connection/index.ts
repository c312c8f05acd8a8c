/**
 * Where a transfer's data connection comes from, and when the transfer may start: the one entry
 * point for the rest of src/ftp. Per file, a fresh set-up costs EPSV (one round trip) and the
 * data connection's handshake before the first byte; on a 50 ms link that is most of a radar
 * file's time, so three jobs take it off the critical path, each where it is safe:
 *
 *   - ready.ts, a ready data connection (all servers): while a walk runs, a control connection
 *     idle in the pool opens its next data connection (`preparePassive`, called by the pool);
 *     its next transfer uses it, or the pool drops it after READY_MAX_AGE_MS.
 *   - prefetch.ts, the next EPSV sent as a transfer starts (its `150`) and answered after its
 *     `226` (vsftpd only, told by the greeting: the others answer or act on it mid-transfer).
 *   - slots.ts and gate.ts, data slots (a batch with `overlapSetup`, all servers): the set-up
 *     runs ahead on a second control connection and the transfer command waits for a slot; a
 *     slot goes on to the next transfer about one lag before its data ends.
 *
 * `openDataConnection` is the order in which they are tried for the transfer being set up:
 *   1. a ready connection (no command: it is already open),
 *   2. else the EPSV/PASV reply prefetched during the previous transfer (once the connection's
 *      passive mode is known),
 *   3. else a fresh EPSV/PASV; then the data connection is opened,
 * and then, when the pool gates this connection's transfers (a batch with `overlapSetup`), the
 * wait for a data slot. The transfer command goes out when it resolves.
 *
 * Each control connection's part of all three lives in one object (state.ts). The pool decides
 * when a connection prepares a ready data connection, which connections are gated and how many
 * slots there are (../pool.ts `limitDataTransfers`, from a batch's `overlapSetup` or the
 * client's `maxDataTransfers`); the download tells the gate its size (`expectDataBytes`).
 */
import type { FTPContext, FTPResponse } from 'basic-ftp';
import { holdDataSlot } from './gate.js';
import { enablePassivePrefetch, queuesCommandsDuringTransfer, takePrefetched } from './prefetch.js';
import { noteAcceptsOnCommand, takeReadyPassive } from './ready.js';

export { expectDataBytes, gateTransfers, holdDataSlot } from './gate.js';
export {
  hasPrefetchedPassive,
  prefetchArrived,
  prefetchesUsed,
  queuesCommandsDuringTransfer,
  usePassiveCommand,
} from './prefetch.js';
export { dropReadyPassive, hasReadyPassive, preparePassive, READY_MAX_AGE_MS } from './ready.js';
export { DataSlots, type DataSlotStats } from './slots.js';

/** What the server's greeting tells about its data connections; call once per login. */
export function noteGreeting(ftp: FTPContext, greeting: string): void {
  if (queuesCommandsDuringTransfer(greeting)) enablePassivePrefetch(ftp);
  noteAcceptsOnCommand(ftp, greeting);
}

/**
 * Sets up the data connection of the transfer about to be sent on `ftp` (see above for the
 * order) and resolves with the passive reply once the transfer command may go out. `command` is
 * the connection's passive command; `connect` opens the data connection the reply announces
 * (`connectEarly`: the connection's passive mode already worked, so a prefetch may be used).
 * Rejects as the EPSV/PASV or `connect` does.
 */
export async function openDataConnection(
  ftp: FTPContext,
  command: 'EPSV' | 'PASV',
  connectEarly: boolean,
  connect: (reply: FTPResponse) => Promise<void>,
): Promise<FTPResponse> {
  const ready = takeReadyPassive(ftp);
  if (ready !== undefined) {
    await holdDataSlot(ftp);
    return ready;
  }
  const prefetched = connectEarly ? await takePrefetched(ftp, command, ftp.timeout) : undefined;
  const reply = prefetched ?? (await ftp.request(command));
  await connect(reply);
  // with a batch's overlapSetup, the transfer command waits here for its data slot
  await holdDataSlot(ftp);
  return reply;
}
