/**
 * Error texts that come from the daemon (a failed listing, a parked file, a ledger error) may
 * carry a credential when a server or driver echoes it. They are cleaned here, field by field,
 * when the snapshot is built: responses are never scrubbed as a whole, and nothing a client sends
 * ever goes through this (a scrubber applied to reflected input tells the client when it guessed
 * the password).
 */
import { redactUrl } from '../daemon/config.js';

/** Shown instead of a text that contains a credential too short to cut out safely. */
export const WITHHELD = '[error text withheld: it may contain a credential]';
export const REDACTED = '[redacted]';

/** Shorter secrets are not cut out of a text (that would shred it) but withhold the whole text. */
const MIN_CUT_LENGTH = 4;

export interface SecretSource {
  readonly sources: readonly { readonly password: string }[];
  readonly ledger: string;
}

/** The credentials of a configuration, in every spelling they may appear in an error text. */
export function secretsOf(config: SecretSource): string[] {
  const out = new Set<string>();
  for (const s of config.sources) if (s.password !== '') out.add(s.password);
  try {
    const url = new URL(config.ledger);
    for (const raw of [url.password, url.searchParams.get('password') ?? '']) {
      if (raw === '') continue;
      out.add(raw);
      try {
        out.add(decodeURIComponent(raw));
      } catch {
        // not percent-encoded
      }
    }
  } catch {
    // A file path, not a URL: no credential in it.
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Returns a cleaner for error texts: URLs' passwords redacted, then each known secret. */
export function errorTextScrubber(config: SecretSource): (text: string) => string {
  const secrets = secretsOf(config);
  return (text) => {
    let out = text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
    for (const s of secrets) {
      if (!out.includes(s)) continue;
      if (s.length < MIN_CUT_LENGTH) return WITHHELD;
      out = out.split(s).join(REDACTED);
    }
    return out;
  };
}
