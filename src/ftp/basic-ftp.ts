/**
 * basic-ftp's values, loaded with `require`. basic-ftp is CommonJS; an ESM `import` of it makes
 * Node scan the source of its index and of every module the index re-exports
 * (`__exportStar(require("./Client"))`...) to find their named exports, on every start of the
 * process: 40–45 ms of CPU (`perf stat`, median of 9: 116 ms for a script importing `basic-ftp`
 * and its transfer module, 73 ms with `require`): a third of the bench mirror's start-up, ~6 %
 * of a 240-file loopback mirror's whole CPU. The same modules and classes either way (one
 * require cache): `instanceof FTPError` holds for errors of either origin.
 *
 * Types still come from `import type ... from 'basic-ftp'` (erased). Import basic-ftp's values
 * from here only: one ESM import of it anywhere brings the scan back.
 */
import { createRequire } from 'node:module';
import type * as BasicFtp from 'basic-ftp';
import type * as StringWriterModule from 'basic-ftp/dist/StringWriter.js';
import type * as TransferModule from 'basic-ftp/dist/transfer.js';

const require = createRequire(import.meta.url);
const basicFtp = require('basic-ftp') as typeof BasicFtp;
const transfer = require('basic-ftp/dist/transfer.js') as typeof TransferModule;
const stringWriter = require('basic-ftp/dist/StringWriter.js') as typeof StringWriterModule;

export const Client: typeof BasicFtp.Client = basicFtp.Client;
export type Client = BasicFtp.Client;
export const FTPError: typeof BasicFtp.FTPError = basicFtp.FTPError;
export type FTPError = BasicFtp.FTPError;
export const FileType: typeof BasicFtp.FileType = basicFtp.FileType;
export const StringWriter: typeof StringWriterModule.StringWriter = stringWriter.StringWriter;
export type StringWriter = StringWriterModule.StringWriter;
export const { connectForPassiveTransfer, parseEpsvResponse, parsePasvResponse, downloadTo } = transfer;
