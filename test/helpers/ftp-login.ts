/**
 * The login part of a client's (or the daemon's) options for a test FTP server: the embedded,
 * the scripted and the Debian servers all describe themselves as `{ host, port, user, password }`.
 */
export interface FtpTestServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function loginTo(server: FtpTestServer): {
  host: string;
  port: number;
  username: string;
  password: string;
} {
  return { host: server.host, port: server.port, username: server.user, password: server.password };
}
