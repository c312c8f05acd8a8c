/**
 * `radarlib/demo`: everything `radarlib demo` is made of, for trying radarlib (or testing your
 * own processing) without a real server: an FTP server embedded in the Node process, a synthetic
 * radar network publishing real BUFR volumes into it, and the whole demo in one call. Everything
 * listens on loopback. Loading it loads ftp-srv and the status page's web stack.
 *
 * @packageDocumentation
 */
export { COMMAND_LOG_LIMIT, startEmbeddedFtpServer } from './embedded-ftp-server.js';
export type { EmbeddedFtpOptions, EmbeddedFtpServer, FtpCommandRecord } from './embedded-ftp-server.js';
export { DEMO_SITES, startRadarNetwork } from './network.js';
export type { PublishedFile, RadarNetwork, RadarNetworkOptions } from './network.js';
export { runDemo, startDemo } from './run-demo.js';
export type { DecodedVolume, DemoHandle, DemoOptions } from './run-demo.js';
