/** A writable stream that keeps what it is given as text: for loggers and CLI output in tests. */
import { Writable } from 'node:stream';

export interface TextSink {
  stream: Writable;
  /** Everything written so far. */
  text(): string;
  /** The non-empty lines written so far (one pino JSON record each, for a logger). */
  lines(): string[];
}

export function textSink(): TextSink {
  let text = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    }),
    text: () => text,
    lines: () => text.split('\n').filter((line) => line !== ''),
  };
}
