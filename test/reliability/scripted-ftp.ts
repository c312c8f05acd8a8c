/**
 * A tiny scripted FTP server for hostile and pathological cases a real server will not produce:
 * a crafted `LIST` (names with `..`, `/`, NUL, 4,096 characters), a listing of 200,000 entries or
 * one that never ends, and a server that sends 1 byte per second (greeting, replies or data).
 *
 * Plain FTP on 127.0.0.1, port 0. It speaks just enough for basic-ftp: USER/PASS, FEAT (no MLSD,
 * so LIST is used), TYPE, EPSV/PASV, LIST, SIZE, RETR. Every socket is destroyed by `stop()`.
 */
import { once } from 'node:events';
import net from 'node:net';
import { sleep } from '../helpers/wait.js';

export interface ScriptedFtpOptions {
  /** Raw listing of a folder (Unix `ls -l` lines with CRLF), generated lazily in chunks. */
  list?: (path: string) => Iterable<string>;
  /** Bytes of a file, or undefined for `550`. */
  file?: (path: string) => Buffer | undefined;
  /** Send the greeting one byte per this many ms. */
  greetingByteMs?: number;
  /** Send replies after login one byte per this many ms. */
  replyByteMs?: number;
  /** Only the replies to these commands are slowed (e.g. `['EPSV', 'PASV']`). @default all */
  slowReplyTo?: readonly string[];
  /** Send file data one byte per this many ms. */
  dataByteMs?: number;
}

export interface ScriptedFtp {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** RETR commands received, in order. */
  retrieved: string[];
  stop(): Promise<void>;
}

// unref'd: a server stopped mid-trickle must not keep the test process alive.

/** A Unix `ls -l` line for a file. */
export function lsLine(name: string, size: number): string {
  return `-rw-r--r--    1 ftp      ftp      ${String(size).padStart(8)} Oct 20 15:28 ${name}\r\n`;
}

export async function startScriptedFtp(options: ScriptedFtpOptions): Promise<ScriptedFtp> {
  const sockets = new Set<net.Socket>();
  const servers = new Set<net.Server>();
  const retrieved: string[] = [];
  let stopping = false;
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };

  /** Writes `text`, one byte per `byteMs` when set; stops early when the socket goes. */
  async function send(socket: net.Socket, text: string | Buffer, byteMs = 0): Promise<void> {
    const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    if (byteMs <= 0) {
      if (!socket.write(buf)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            socket.off('drain', done);
            socket.off('close', done);
            resolve();
          };
          socket.on('drain', done);
          socket.on('close', done);
        });
      }
      return;
    }
    for (let i = 0; i < buf.length && !socket.destroyed && !stopping; i++) {
      socket.write(buf.subarray(i, i + 1));
      await sleep(byteMs, undefined, { ref: false });
    }
  }

  const server = net.createServer((control) => {
    track(control);
    let loggedIn = false;
    let dataServer: net.Server | null = null;
    let dataSocket: Promise<net.Socket> | null = null;
    let verbNow = '';
    const reply = (text: string): Promise<void> => {
      const slow = loggedIn && (options.slowReplyTo?.includes(verbNow) ?? true);
      return send(control, `${text}\r\n`, slow ? (options.replyByteMs ?? 0) : 0);
    };

    const openData = async (): Promise<number> => {
      dataServer?.close();
      const ds = net.createServer();
      servers.add(ds);
      dataServer = ds;
      dataSocket = new Promise((resolve) =>
        ds.once('connection', (s) => {
          track(s);
          ds.close();
          resolve(s);
        }),
      );
      ds.listen(0, '127.0.0.1');
      await once(ds, 'listening');
      return (ds.address() as net.AddressInfo).port;
    };

    const withData = async (work: (s: net.Socket) => Promise<void>): Promise<void> => {
      if (dataSocket === null) return reply('425 Use PASV or EPSV first');
      const pending = dataSocket;
      dataSocket = null;
      await reply('150 Opening data connection');
      const s = await pending;
      await work(s);
      await new Promise<void>((resolve) => s.end(resolve));
      await reply('226 Transfer complete');
    };

    const handle = async (line: string): Promise<void> => {
      const [verb = '', ...rest] = line.split(' ');
      const arg = rest.join(' ');
      verbNow = verb.toUpperCase();
      switch (verb.toUpperCase()) {
        case 'USER':
          return reply('331 Password required');
        case 'PASS':
          await reply('230 Logged in');
          loggedIn = true;
          return;
        case 'FEAT':
          return reply('211-Features:\r\n EPSV\r\n SIZE\r\n211 End');
        case 'TYPE':
        case 'STRU':
        case 'NOOP':
          return reply('200 OK');
        case 'PWD':
          return reply('257 "/"');
        case 'EPSV':
          return reply(`229 Entering Extended Passive Mode (|||${await openData()}|)`);
        case 'PASV': {
          const port = await openData();
          return reply(`227 Entering Passive Mode (127,0,0,1,${port >> 8},${port & 255})`);
        }
        case 'LIST':
        case 'NLST': {
          const path = arg.replace(/^-a\s*/, '') || '/';
          return withData(async (s) => {
            let chunk = '';
            for (const l of options.list?.(path) ?? []) {
              chunk += l;
              if (chunk.length >= 64 * 1024) {
                if (s.destroyed || stopping) return;
                await send(s, chunk);
                chunk = '';
              }
            }
            if (chunk !== '') await send(s, chunk);
          });
        }
        case 'SIZE': {
          const bytes = options.file?.(arg);
          return reply(bytes === undefined ? '550 No such file' : `213 ${bytes.length}`);
        }
        case 'RETR': {
          retrieved.push(arg);
          const bytes = options.file?.(arg);
          if (bytes === undefined) return reply('550 No such file');
          return withData((s) => send(s, bytes, options.dataByteMs ?? 0));
        }
        case 'QUIT':
          await reply('221 Bye');
          control.end();
          return;
        default:
          return reply('502 Not implemented');
      }
    };

    let buf = '';
    let chain = send(control, '220 scripted FTP\r\n', options.greetingByteMs ?? 0);
    control.setEncoding('latin1');
    control.on('data', (text: string) => {
      buf += text;
      if (buf.length > 64 * 1024) control.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        chain = chain
          .then(() => handle(line))
          .catch(() => {
            control.destroy();
          });
      }
    });
    control.on('close', () => dataServer?.close());
  });
  servers.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    host: '127.0.0.1',
    port: (server.address() as net.AddressInfo).port,
    user: 'radar',
    password: 'scripted',
    retrieved,
    async stop() {
      stopping = true;
      for (const s of servers) s.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
