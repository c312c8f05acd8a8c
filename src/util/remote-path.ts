/**
 * Remote paths as servers write them: `/`-separated whatever the local system, so `node:path`
 * (which splits on `\` too on Windows, and trims trailing slashes) is not used for them.
 */

/** The last part of a `/`-separated remote path: `/L2/RMA1/a.BUFR` -> `a.BUFR`, `/L2/` -> ``. */
export function remoteBaseName(remotePath: string): string {
  return remotePath.slice(remotePath.lastIndexOf('/') + 1);
}
