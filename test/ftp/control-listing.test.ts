/**
 * Folders listed by `STAT <folder>` on the control connection (src/ftp/control-listing.ts) in
 * recursive walks: the reply's parser, and against the embedded server (ftp-srv answers STAT with
 * `ls -l` lines) what the server was asked: STAT per folder and no data connection for them; a
 * file name with CR LF that could end the reply early (the REST sentinel keeps the replies in
 * step); a server that refuses STAT, or answers every STAT empty (vsftpd and Pure-FTPd do so for
 * a missing folder); a missing folder still fails; a folder of more than 64 KiB of lines (where
 * basic-ftp would close the connection) is read whole; sibling folders' STATs go in one write
 * (src/ftp/stat-batch.ts), a CR LF name spoiling only its own folder's reply. The Debian
 * servers: test/ftp/debian-servers-stat.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FtpReplyError } from '../../src/errors.js';
import { readStatReply, statSafePath } from '../../src/ftp/control-listing.js';
import { AsyncFTPClient } from '../../src/ftp/index.js';
import { makeRadarDataset, type DatasetFile } from '../helpers/dataset.js';
import { startEmbeddedFtp, type EmbeddedFtpServer, type StatRule } from '../helpers/embedded-ftp.js';
import { startRelay } from '../helpers/flight-relay.js';
import { loginTo } from '../helpers/ftp-login.js';

const LS = '-rw-r--r--    1 1000     1000         2729 Dec 02 21:21 RMA1_0315_01_DBZH_20261202T212036Z.BUFR';
const DIR = 'drwxr-xr-x    2 1000     1000         4096 Dec 02 21:21 2036';

describe('readStatReply', () => {
  test('vsftpd and ftp-srv: 213, `.` and `..` left out', () => {
    const outcome = readStatReply(
      [
        '213-Status follows:',
        'total 8',
        DIR.replace(' 2036', ' .'),
        DIR.replace(' 2036', ' ..'),
        DIR,
        LS,
        '213 End of status',
      ].join('\r\n'),
    );
    assert.equal(outcome.kind, 'listing');
    assert.deepEqual(
      outcome.kind === 'listing' && outcome.infos.map((i) => [i.name, i.isDirectory, i.size]),
      [
        ['2036', true, 4096],
        ['RMA1_0315_01_DBZH_20261202T212036Z.BUFR', false, 2729],
      ],
    );
  });

  test('ProFTPD: 212, each line indented by one space', () => {
    const outcome = readStatReply(
      ['212-Status of /L2:', ` ${DIR}`, ` ${LS}`, '212 End of status'].join('\r\n'),
    );
    assert.deepEqual(outcome.kind === 'listing' && outcome.infos.map((i) => i.name), [
      '2036',
      'RMA1_0315_01_DBZH_20261202T212036Z.BUFR',
    ]);
  });

  test('a reply ended inside its lines (a file name with CR LF) is not used', () => {
    const faked = ['213-Status follows:', `${LS}x`, '213 End of status', LS, '213 End of status'].join(
      '\r\n',
    );
    assert.deepEqual(readStatReply(faked), { kind: 'unusable' });
  });

  test('a line that is no `ls` entry is not dropped silently', () => {
    assert.deepEqual(readStatReply(['213-Status follows:', 'what is this', '213 End'].join('\r\n')), {
      kind: 'unusable',
    });
  });

  test('refusals and empty answers', () => {
    assert.deepEqual(readStatReply('450 No such file or directory'), { kind: 'refused', code: 450 });
    assert.deepEqual(readStatReply('213 End of status'), { kind: 'empty' });
    assert.deepEqual(readStatReply(['213-Status follows:', 'total 0', '213 End of status'].join('\r\n')), {
      kind: 'empty',
    });
  });

  test('only plain absolute paths go by STAT', () => {
    assert.equal(statSafePath('/L2/RMA1/2026/12/02'), true);
    for (const p of ['L2/RMA1', '/L2/a b', '/L2/*', '/L2/a?', '/L2/[x]', "/L2/it's", '/L2/a\tb', '/L2/~x'])
      assert.equal(statSafePath(p), false, p);
  });
});

/** Every folder of the data set's tree below (and with) /L2, as absolute remote paths. */
function folders(files: readonly DatasetFile[]): string[] {
  const all = new Set<string>();
  for (const f of files) {
    for (let d = dirname(`/${f.relPath}`); d !== '/'; d = dirname(d)) all.add(d);
  }
  return [...all].sort();
}

describe('recursive walks by STAT on the embedded server', () => {
  let work: string;
  let files: DatasetFile[];
  const servers: EmbeddedFtpServer[] = [];
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'radarlib-control-listing-'));
    files = await makeRadarDataset(join(work, 'data'), {
      volumes: 4,
      layout: 'tree',
      sizeMin: 2_000,
      sizeMax: 4_000,
    });
  });
  after(async () => {
    for (const s of servers) await s.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const serve = async (root: string, stat: StatRule = 'answer'): Promise<EmbeddedFtpServer> => {
    const server = await startEmbeddedFtp({ root, stat });
    servers.push(server);
    return server;
  };
  const sent = (server: EmbeddedFtpServer, from: number, pattern: RegExp): string[] =>
    server.commands
      .slice(from)
      .map((c) => (c.arg === null ? c.directive : `${c.directive} ${c.arg}`))
      .filter((c) => pattern.test(c));
  const expected = (): string[] => files.map((f) => `/${f.relPath}`).sort();
  /** Each folder of the data set went once by STAT, none by a data connection. */
  const assertEveryFolderByStat = (server: EmbeddedFtpServer): void => {
    const stats = sent(server, 0, /^STAT /).map((c) => c.slice('STAT '.length));
    assert.deepEqual(stats.sort(), folders(files));
    assert.deepEqual(sent(server, 0, /^(LIST|MLSD|NLST)\b/), []);
  };

  test('listFiles: every folder by STAT, none by a data connection; listEntries: the files by LIST', async (t) => {
    const server = await serve(join(work, 'data'));
    const client = new AsyncFTPClient({ ...loginTo(server), maxConnections: 4 });
    t.after(() => client.disconnect());
    assert.deepEqual(await client.listFiles('/L2', { recursive: true }), expected());
    assertEveryFolderByStat(server);
    // the sentinel: one `REST <10 digits>` and one `REST 0` per STAT
    assert.equal(sent(server, 0, /^REST \d{10}$/).length, folders(files).length);
    assert.equal(sent(server, 0, /^REST 0$/).length, folders(files).length);
    // exact entries: ftp-srv has no MLSD, so STAT's `ls` times are as good as LIST's: no second listing
    const mark = server.commands.length;
    const entries = await client.listEntries('/L2', { recursive: true });
    assert.deepEqual(
      entries.map((e) => e.path),
      expected(),
    );
    assert.deepEqual(sent(server, mark, /^(LIST|MLSD)\b/), []);
    // turned off: as before
    const off = server.commands.length;
    assert.deepEqual(await client.listFiles('/L2', { recursive: true, controlListing: false }), expected());
    assert.deepEqual(sent(server, off, /^STAT /), []);
    assert.equal(sent(server, off, /^LIST /).length, folders(files).length);
  });

  test('a file name with CR LF and a fake end of reply: that folder by LIST, replies stay in step', async (t) => {
    const root = join(work, 'crlf');
    const leaf = join(root, 'L2', 'RMA1', '2026');
    mkdirSync(leaf, { recursive: true });
    writeFileSync(join(leaf, 'RMA1_A.BUFR'), 'a');
    // its last line an `ls` line, so that LIST (whose data basic-ftp parses line by line) lists the folder
    writeFileSync(
      join(leaf, 'x\r\n213 End of status\r\n350 Restarting at 0\r\n-rw-r--r-- 1 0 0 1 Dec 02 21:21 y'),
      'e',
    );
    writeFileSync(join(leaf, 'RMA1_B.BUFR'), 'bb');
    const server = await serve(root);
    const client = new AsyncFTPClient({ ...loginTo(server), maxConnections: 1 });
    t.after(() => client.disconnect());
    const listed = await client.listFiles('/L2', { recursive: true, pattern: 'RMA1_*.BUFR' });
    assert.deepEqual(listed, ['/L2/RMA1/2026/RMA1_A.BUFR', '/L2/RMA1/2026/RMA1_B.BUFR']);
    assert.deepEqual(sent(server, 0, /^STAT /), ['STAT /L2', 'STAT /L2/RMA1', 'STAT /L2/RMA1/2026']);
    assert.deepEqual(sent(server, 0, /^LIST /), ['LIST /L2/RMA1/2026']);
    // the same connection's next replies are its own: SIZE answers for the right file
    assert.equal(await client.checkFileExists('/L2/RMA1/2026/RMA1_B.BUFR'), true);
    assert.equal(await client.checkFileExists('/L2/RMA1/2026/nope.BUFR'), false);
    assert.deepEqual(await client.listFiles('/L2', { recursive: true, pattern: 'RMA1_*.BUFR' }), listed);
  });

  /** A relay to `server` that counts the STAT commands in each chunk the client wrote. */
  const statWrites = async (server: EmbeddedFtpServer) => {
    const perChunk: number[] = [];
    const relay = await startRelay(server.port, () => ({
      fromClient: (chunk, toServer) => {
        const stats = chunk.toString('latin1').match(/^STAT /gm)?.length ?? 0;
        if (stats > 0) perChunk.push(stats);
        toServer(chunk);
      },
      fromServer: (chunk, toClient) => toClient(chunk),
    }));
    return { relay, perChunk };
  };

  test('sibling folders: their STATs in one write on the one connection', async (t) => {
    const server = await serve(join(work, 'data'));
    const { relay, perChunk } = await statWrites(server);
    const client = new AsyncFTPClient({ ...loginTo(server), port: relay.port, maxConnections: 1 });
    t.after(async () => {
      await client.disconnect();
      await relay.close();
    });
    assert.deepEqual(await client.listFiles('/L2', { recursive: true }), expected());
    // each folder once, by STAT
    assertEveryFolderByStat(server);
    // the largest family of sub-folders went out in one write (one STAT per write before)
    const siblings = new Map<string, number>();
    for (const f of folders(files)) siblings.set(dirname(f), (siblings.get(dirname(f)) ?? 0) + 1);
    const most = Math.max(...siblings.values());
    assert.ok(most >= 2, `the data set has sibling folders (${most})`);
    assert.equal(Math.max(...perChunk), most, perChunk.join());
    assert.equal(
      perChunk.reduce((a, b) => a + b, 0),
      folders(files).length,
    );
  });

  test("a CR LF name in one of a write's folders: only that folder by LIST, the others by STAT", async (t) => {
    const root = join(work, 'crlf-siblings');
    for (const leaf of ['A', 'B', 'C']) {
      mkdirSync(join(root, 'L2', leaf), { recursive: true });
      writeFileSync(join(root, 'L2', leaf, `RMA1_${leaf}.BUFR`), leaf);
    }
    writeFileSync(
      join(
        root,
        'L2',
        'B',
        'x\r\n213 End of status\r\n350 Restarting at 0\r\n-rw-r--r-- 1 0 0 1 Dec 02 21:21 y',
      ),
      'e',
    );
    const server = await serve(root);
    const { relay, perChunk } = await statWrites(server);
    const client = new AsyncFTPClient({ ...loginTo(server), port: relay.port, maxConnections: 1 });
    t.after(async () => {
      await client.disconnect();
      await relay.close();
    });
    const listed = await client.listFiles('/L2', { recursive: true, pattern: 'RMA1_*.BUFR' });
    assert.deepEqual(listed, ['/L2/A/RMA1_A.BUFR', '/L2/B/RMA1_B.BUFR', '/L2/C/RMA1_C.BUFR']);
    assert.deepEqual(perChunk, [1, 3]);
    assert.deepEqual(sent(server, 0, /^LIST /), ['LIST /L2/B']);
    // the connection's next replies are its own
    assert.equal(await client.checkFileExists('/L2/C/RMA1_C.BUFR'), true);
    assert.equal(await client.checkFileExists('/L2/C/nope.BUFR'), false);
  });

  test('a server that refuses STAT: one refusal, then every folder by LIST', async (t) => {
    const server = await serve(join(work, 'data'), 'refuse');
    const client = new AsyncFTPClient({ ...loginTo(server), maxConnections: 1 });
    t.after(() => client.disconnect());
    assert.deepEqual(await client.listFiles('/L2', { recursive: true }), expected());
    assert.equal(sent(server, 0, /^STAT /).length, 1);
    assert.equal(sent(server, 0, /^LIST /).length, folders(files).length);
  });

  test('every STAT answered empty (a missing folder on vsftpd): each folder by LIST, nothing lost', async (t) => {
    const server = await serve(join(work, 'data'), 'empty');
    const client = new AsyncFTPClient({ ...loginTo(server), maxConnections: 2 });
    t.after(() => client.disconnect());
    assert.deepEqual(await client.listFiles('/L2', { recursive: true }), expected());
    assert.equal(sent(server, 0, /^STAT /).length, folders(files).length);
    assert.equal(sent(server, 0, /^LIST /).length, folders(files).length);
  });

  test('a missing folder still fails the walk', async (t) => {
    const server = await serve(join(work, 'data'));
    const client = new AsyncFTPClient({ ...loginTo(server), maxConnections: 1 });
    t.after(() => client.disconnect());
    await assert.rejects(client.listFiles('/L2/NOPE', { recursive: true }), FtpReplyError);
    // ftp-srv answers the STAT 450; LIST then fails as it did before STAT (basic-ftp tries it twice)
    const [stat, ...lists] = sent(server, 0, /^(STAT|LIST) /);
    assert.equal(stat, 'STAT /L2/NOPE');
    assert.ok(lists.length > 0 && lists.every((c) => c === 'LIST /L2/NOPE'), lists.join());
    assert.deepEqual(await client.listFiles('/L2', { recursive: true }), expected());
  });

  test('a folder of 1,500 entries (over 64 KiB of reply) is read whole on its connection', async (t) => {
    const root = join(work, 'big');
    mkdirSync(join(root, 'L2', 'RMA9'), { recursive: true });
    const names = Array.from(
      { length: 1_500 },
      (_, i) => `RMA9_${String(i).padStart(5, '0')}_0315_01_DBZH_20261202T212036Z.BUFR`,
    );
    for (const n of names) writeFileSync(join(root, 'L2', 'RMA9', n), 'x');
    const server = await serve(root);
    const client = new AsyncFTPClient({ ...loginTo(server), maxConnections: 1 });
    t.after(() => client.disconnect());
    const listed = await client.listFiles('/L2', { recursive: true });
    assert.deepEqual(
      listed,
      names.map((n) => `/L2/RMA9/${n}`),
    );
    assert.deepEqual(sent(server, 0, /^(LIST|MLSD) /), []);
    assert.equal(sent(server, 0, /^USER /).length, 1, 'one connection, never closed');
  });
});
