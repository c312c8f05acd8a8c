/**
 * An in-process SSH/SFTP server (ssh2's `Server`) on loopback for the default `npm test`: a real
 * SSH handshake, real host key and real password/public-key authentication, serving `root`
 * read-only as if chrooted. It plays a server that runs as a normal user: a file without read
 * bits is answered with "permission denied" even though the test process runs as root.
 *
 * Faults for the tests: `dropAfterBytes` cuts the TCP connection once after that many file bytes
 * were sent; `extraNames` adds names (`..`, `a/b`...) to every listing of the root folder, as a
 * hostile server would. `requests` records what the clients asked (`OPEN /x`, `READ /x 65536`).
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { writeFileSync, type Stats as FsStats } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { posix, join } from 'node:path';
import ssh2, { type Attributes, type Connection, type ParsedKey, type SFTPWrapper } from 'ssh2';

const { Server, utils } = ssh2;
const STATUS = utils.sftp.STATUS_CODE;

export interface EmbeddedSftpOptions {
  root: string;
  username?: string;
  password?: string;
  /** OpenSSH public key text (`ssh-ed25519 AAAA...`) accepted for the user. */
  authorizedKey?: string;
  /** Cut the connection once, after this many bytes of file data. */
  dropAfterBytes?: number;
  /** Names added to every listing of `/`. */
  extraNames?: string[];
}

export interface EmbeddedSftpServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** The server's public host key blob (what a client's known_hosts must hold). */
  hostKey: Buffer;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA...`: a known_hosts line for this server. */
  knownHostsLine: string;
  requests: string[];
  /** TCP connections accepted. */
  connections: () => number;
  stop(): Promise<void>;
}

function attrsOf(st: FsStats): Attributes {
  return {
    mode: st.mode,
    uid: 0,
    gid: 0,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

function longname(name: string, st: FsStats): string {
  return `${st.isDirectory() ? 'd' : '-'}rw-r--r--    1 ftp      ftp      ${st.size} Jan 01 00:00 ${name}`;
}

/**
 * `ssh2.utils.generateKeyPairSync('ed25519', options)`, drawn again when ssh2 cannot read back the
 * public half: it drops a leading zero byte of it (about 1 key in 300), and its own parser then
 * says "Malformed OpenSSH public key", failing whichever test drew that key.
 */
export function ed25519KeyPair(options: Parameters<typeof utils.generateKeyPairSync<'ed25519'>>[1] = {}): {
  private: string;
  public: string;
  parsed: ParsedKey;
} {
  for (let attempt = 1; ; attempt++) {
    const keys = utils.generateKeyPairSync('ed25519', options);
    const parsed = utils.parseKey(keys.public);
    if (!(parsed instanceof Error)) return { ...keys, parsed };
    if (attempt === 20) throw parsed;
  }
}

/** Writes a known_hosts file holding `server`'s host key into `dir`; returns its path. */
export function writeKnownHosts(server: { port: number; knownHostsLine: string }, dir: string): string {
  const file = join(dir, `known_hosts-${server.port}`);
  writeFileSync(file, `${server.knownHostsLine}\n`);
  return file;
}

export async function startEmbeddedSftp(options: EmbeddedSftpOptions): Promise<EmbeddedSftpServer> {
  const username = options.username ?? 'radar';
  const password = options.password ?? randomBytes(9).toString('base64url');
  const keys = ed25519KeyPair();
  const hostKey = keys.parsed.getPublicSSH();
  const allowed = options.authorizedKey === undefined ? null : utils.parseKey(options.authorizedKey);
  if (allowed instanceof Error) throw allowed;
  const requests: string[] = [];
  let dropBudget = options.dropAfterBytes;
  let connectionCount = 0;
  const clients = new Set<Connection>();

  const server = new Server({ hostKeys: [keys.private] }, (client) => {
    connectionCount++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.username !== username) return ctx.reject(['password', 'publickey']);
      if (ctx.method === 'password' && ctx.password === password) return ctx.accept();
      if (ctx.method === 'publickey' && allowed !== null) {
        if (ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH()))
          return ctx.reject();
        if (ctx.signature === undefined || ctx.blob === undefined) return ctx.accept(); // key query
        if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
      }
      return ctx.reject(['password', 'publickey']);
    });
    client.on('ready', () => {
      (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), client));
      });
    });
  });

  /** Maps a remote path into `root`; null when it would leave it. */
  const local = (remote: string): string | null => {
    const normal = posix.normalize(posix.join('/', remote));
    if (normal.split('/').includes('..')) return null;
    return join(options.root, normal);
  };

  function serveSftp(sftp: SFTPWrapper, client: Connection): void {
    const files = new Map<string, { fh: FileHandle; path: string }>();
    const dirs = new Map<string, { path: string; remote: string; done: boolean }>();
    let nextHandle = 0;
    sftp.on('close', () => {
      for (const f of files.values()) void f.fh.close().catch(() => undefined);
      files.clear();
    });
    const newHandle = (): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(nextHandle++);
      return b;
    };
    sftp.on('REALPATH', (id, path) => {
      const normal = posix.normalize(posix.join('/', path));
      sftp.name(id, [{ filename: normal, longname: normal, attrs: {} as Attributes }]);
    });
    const statPath = async (id: number, path: string): Promise<void> => {
      requests.push(`STAT ${path}`);
      const p = local(path);
      const st = p === null ? null : await stat(p).catch(() => null);
      if (st === null) sftp.status(id, STATUS.NO_SUCH_FILE, 'No such file');
      else sftp.attrs(id, attrsOf(st));
    };
    sftp.on('STAT', (id, path) => void statPath(id, path));
    sftp.on('LSTAT', (id, path) => void statPath(id, path));
    sftp.on('OPEN', (id, path) => {
      requests.push(`OPEN ${path}`);
      void (async () => {
        const p = local(path);
        const st = p === null ? null : await stat(p).catch(() => null);
        if (p === null || st === null) return sftp.status(id, STATUS.NO_SUCH_FILE, 'No such file');
        if ((st.mode & 0o444) === 0) return sftp.status(id, STATUS.PERMISSION_DENIED, 'Permission denied');
        const h = newHandle();
        files.set(h.toString('hex'), { fh: await open(p, 'r'), path });
        sftp.handle(id, h);
      })();
    });
    sftp.on('FSTAT', (id, handle) => {
      const f = files.get(handle.toString('hex'));
      if (f === undefined) return sftp.status(id, STATUS.FAILURE, 'bad handle');
      void f.fh.stat().then((st) => sftp.attrs(id, attrsOf(st)));
    });
    sftp.on('READ', (id, handle, offset, length) => {
      const f = files.get(handle.toString('hex'));
      if (f === undefined) return sftp.status(id, STATUS.FAILURE, 'bad handle');
      requests.push(`READ ${f.path} ${offset}`);
      void (async () => {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await f.fh.read(buf, 0, length, offset);
        if (bytesRead === 0) return sftp.status(id, STATUS.EOF);
        if (dropBudget !== undefined) {
          dropBudget -= bytesRead;
          if (dropBudget <= 0) {
            dropBudget = undefined;
            requests.push(`DROP ${f.path}`);
            // As a link going down would: what was sent arrives, then no goodbye, the socket ends.
            const sock = (client as unknown as { _sock: { destroy(): void } })._sock;
            setTimeout(() => sock.destroy(), 100);
            return;
          }
        }
        sftp.data(id, buf.subarray(0, bytesRead));
      })();
    });
    sftp.on('CLOSE', (id, handle) => {
      const key = handle.toString('hex');
      const f = files.get(key);
      files.delete(key);
      dirs.delete(key);
      void (f?.fh.close() ?? Promise.resolve()).then(() => sftp.status(id, STATUS.OK));
    });
    sftp.on('OPENDIR', (id, path) => {
      requests.push(`OPENDIR ${path}`);
      const p = local(path);
      void (async () => {
        const st = p === null ? null : await stat(p).catch(() => null);
        if (p === null || st === null || !st.isDirectory())
          return sftp.status(id, STATUS.NO_SUCH_FILE, 'No such folder');
        if ((st.mode & 0o444) === 0) return sftp.status(id, STATUS.PERMISSION_DENIED, 'Permission denied');
        const h = newHandle();
        dirs.set(h.toString('hex'), { path: p, remote: posix.normalize(posix.join('/', path)), done: false });
        sftp.handle(id, h);
      })();
    });
    sftp.on('READDIR', (id, handle) => {
      const d = dirs.get(handle.toString('hex'));
      if (d === undefined) return sftp.status(id, STATUS.FAILURE, 'bad handle');
      if (d.done) return sftp.status(id, STATUS.EOF);
      d.done = true;
      void (async () => {
        const names = await readdir(d.path);
        const out = [];
        for (const name of names) {
          const st = await stat(join(d.path, name)).catch(() => null);
          if (st !== null) out.push({ filename: name, longname: longname(name, st), attrs: attrsOf(st) });
        }
        if (d.remote === '/') {
          const fake = { mode: 0o100644, uid: 0, gid: 0, size: 4, atime: 0, mtime: 0 };
          for (const name of options.extraNames ?? [])
            out.push({ filename: name, longname: name, attrs: fake });
        }
        sftp.name(id, out);
      })();
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    hostKey,
    knownHostsLine: `[127.0.0.1]:${port} ${keys.parsed.type} ${hostKey.toString('base64')}`,
    requests,
    connections: () => connectionCount,
    stop: async () => {
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
