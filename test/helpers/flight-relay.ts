/**
 * TCP relays between a client under test and a real server: `startRelay` calls hooks on each
 * chunk either way (to lose or hold bytes); `startFlightRelay`, built on it, counts a client's
 * *flights* per connection: each time the client writes after
 * bytes from the server were delivered to it, it had to wait for the server (a round trip on a
 * real link). Every server-to-client chunk is held HOLD_MS, far longer than the client needs
 * between two writes of one flight, so the count reads turns, not commands (TLS included).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { scaled } from './wait.js';

/**
 * How long each server-to-client chunk is held: far longer than the client needs between two
 * writes of one flight (same tick), longer still on a loaded machine.
 */
const HOLD_MS = scaled(200);

export interface FlightRelay {
  port: number;
  /** Client flights so far on each connection, in the order they were accepted (file comment). */
  flights(): number[];
  close(): Promise<void>;
}

/** One relayed connection: what the relay does with each chunk, each way. */
export interface RelayHooks {
  /** A chunk from the client; forward it (or what is left of it) with `toServer`. */
  fromClient(chunk: Buffer, toServer: (bytes: Buffer) => void): void;
  /** A chunk from the server; forward it with `toClient` (unless the client is gone). */
  fromServer(chunk: Buffer, toClient: (bytes: Buffer) => void): void;
}

/** A TCP relay on loopback to `port`; `hooks` is called once per accepted connection. */
export async function startRelay(
  port: number,
  hooks: () => RelayHooks,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    const h = hooks();
    client.on('data', (chunk: Buffer) => h.fromClient(chunk, (bytes) => upstream.write(bytes)));
    upstream.on('data', (chunk: Buffer) =>
      h.fromServer(chunk, (bytes) => {
        if (!client.destroyed) client.write(bytes);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP relay to `port` on loopback that delays the server's bytes by HOLD_MS. */
export async function startFlightRelay(port: number): Promise<FlightRelay> {
  const flights: number[] = [];
  const relay = await startRelay(port, () => {
    const index = flights.push(0) - 1;
    // the client's first bytes come after the greeting: a flight, like every answer to the server
    let serverSpokeLast = true;
    return {
      fromClient: (chunk, toServer) => {
        if (serverSpokeLast) flights[index] = (flights[index] ?? 0) + 1;
        serverSpokeLast = false;
        toServer(chunk);
      },
      fromServer: (chunk, toClient) => {
        setTimeout(() => {
          serverSpokeLast = true;
          toClient(chunk);
        }, HOLD_MS);
      },
    };
  });
  return { ...relay, flights: () => [...flights] };
}
