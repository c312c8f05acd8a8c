/**
 * The commands of a login after the greeting (and TLS), sent in one flight: `USER`, `PASS`,
 * `FEAT` and the session's single-line settings. On a 50 ms link that is one round trip where
 * sending each after the previous reply took four (USER, PASS, FEAT, the settings): ~150 ms per
 * connection, the first listing's included. RFC 959 lets a client send before earlier replies
 * arrive; vsftpd peeks at its socket so the process that serves the session after the login
 * finds the commands sent with it (tested on every Debian server here: test/ftp/login-pipeline).
 *
 * The batch goes out in one write (the socket corked around it): a server that runs each
 * received chunk's commands one after the other (ftp-srv) then answers them in order, and one
 * that runs chunks concurrently cannot take `PASS` before `USER`. Replies are told apart by
 * position (RFC 959: in the order of the commands); a refused setting is sent again alone.
 *
 * Some middleboxes (FTP-aware NAT and firewalls) and old servers lose commands that arrive
 * together, which is why lftp keeps `ftp:sync-mode` on by default. Here such a login gets no
 * answer and fails on the connect timeout; from then on the server's logins send the same
 * commands one at a time (`oneAtATime`, connection.ts), each after the previous reply.
 */
import type { FTPContext, FTPResponse } from 'basic-ftp';
import { FTPError } from './basic-ftp.js';

/** What the login learnt: whether the server lists with MLSD (RFC 3659 7.8: MLST in FEAT). */
export interface LoginResult {
  mlsd: boolean;
  /** Settings to send again, alone and in order: one of them was refused (or answered out of order). */
  resend: string[];
}

/**
 * Sends `USER`, `PASS`, `FEAT` and `settings` at once and reads their replies. Rejects with the
 * server's reply (an `FTPError`) when `USER` or `PASS` is refused, even if the server then closes
 * the connection before answering the rest (a 421/530 "too many connections" must reach the
 * pool as a reply, not as a closed socket).
 */
export async function pipelinedLogin(
  ftp: FTPContext,
  username: string,
  password: string,
  settings: readonly string[],
  /** Settings whose refusal matters (sent again alone when any is refused). */
  mustHave: readonly string[],
  /** Each command after the previous reply instead of all in one flight (see above). */
  oneAtATime = false,
): Promise<LoginResult> {
  const commands = [`USER ${username}`, `PASS ${password}`, 'FEAT', ...settings];
  const replies = await sendBatch(ftp, commands, loginRefusal, oneAtATime);
  const [user, pass, feat, ...rest] = replies;
  if (user === undefined || pass === undefined || feat === undefined)
    throw new Error('login: replies missing');
  const mlsd = feat.code < 400 && /^\s*MLST\b/m.test(feat.message);
  // A refused OPTS is expected (MLST on a server without it, UTF8 on pyftpdlib); any other
  // refusal (TYPE, PBSZ, PROT) sends the settings that matter again.
  const refused = rest.filter((r, i) => r.code >= 400 && !settings[i]?.startsWith('OPTS ')).length;
  return { mlsd, resend: refused > 0 ? [...mustHave] : [] };
}

/**
 * The login's failure among the replies so far, if any: `USER` must be 331 (password wanted) or
 * 230 (none needed: then `PASS`'s reply, 503 or 202, is ignored); after 331, `PASS` must be 2xx.
 */
function loginRefusal(replies: readonly FTPResponse[]): FTPResponse | undefined {
  const [user, pass] = replies;
  if (user === undefined) return undefined;
  if (user.code !== 331 && user.code !== 230) return user;
  if (user.code === 331 && pass !== undefined && (pass.code < 200 || pass.code >= 300)) return pass;
  return undefined;
}

/**
 * Writes `commands` in one write (or each after the previous final reply: `oneAtATime`) and
 * resolves with their final replies in arrival order (error replies returned, not thrown). A
 * socket error or timeout rejects, with the login's refusal when one arrived before it; one at a
 * time, a refusal also stops at once.
 */
function sendBatch(
  ftp: FTPContext,
  commands: readonly string[],
  refusal: (replies: readonly FTPResponse[]) => FTPResponse | undefined,
  oneAtATime: boolean,
): Promise<FTPResponse[]> {
  const replies: FTPResponse[] = [];
  const done = ftp.handle(undefined, (res, task) => {
    if (res instanceof FTPError) {
      const reply = res as unknown as FTPResponse;
      replies.push({ code: reply.code, message: reply.message });
    } else if (res instanceof Error) {
      const refused = refusal(replies);
      task.reject(refused === undefined ? res : new FTPError(refused));
      return;
    } else if (res.code >= 200) replies.push(res);
    else return; // a preliminary reply: the final one follows
    const next = commands[replies.length];
    if (oneAtATime && next !== undefined) {
      const refused = refusal(replies);
      if (refused === undefined) ftp.send(next);
      else task.reject(new FTPError(refused));
      return;
    }
    if (replies.length < commands.length) return;
    const refused = refusal(replies);
    if (refused === undefined) task.resolve(replies);
    else task.reject(new FTPError(refused));
  }) as Promise<FTPResponse[]>;
  const [first] = commands;
  if (oneAtATime && first !== undefined) {
    ftp.send(first);
    return done;
  }
  const socket = ftp.socket;
  socket.cork();
  try {
    for (const command of commands) ftp.send(command);
  } finally {
    socket.uncork();
  }
  return done;
}
