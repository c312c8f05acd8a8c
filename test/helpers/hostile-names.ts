/**
 * Names a server can hand out to attack the operator, kept in one place for every test that
 * feeds them in: names that must never become a local file name (they would leave the folder, end
 * a command or not fit), and names that carry terminal escapes or a bidi override (shown, never
 * acted on). test/ftp/safe-name.test.ts checks that each unsafe name is refused for its reason.
 */

export interface UnsafeName {
  /** How reports call it (docs/RELIABILITY.md rows quote these). */
  label: string;
  name: string;
  /** What `assertSafeLocalName` says about it. */
  reason: RegExp;
}

/** Remote base names that must never become a local file name. */
export const UNSAFE_LOCAL_NAMES: readonly UnsafeName[] = [
  { label: '..', name: '..', reason: /folder/ },
  { label: '../x', name: '../x.BUFR', reason: /path separator/ },
  { label: 'slash', name: 'a/b.BUFR', reason: /path separator/ },
  { label: 'backslash', name: '..\\y.BUFR', reason: /path separator/ },
  { label: 'NUL', name: 'a\0b.BUFR', reason: /NUL, CR or LF/ },
  { label: 'CR', name: 'cr\rlf.BUFR', reason: /NUL, CR or LF/ },
  { label: 'LF', name: 'a\nb.BUFR', reason: /NUL, CR or LF/ },
  { label: '4,096 characters', name: `${'n'.repeat(4091)}.BUFR`, reason: /longer than 255 bytes/ },
];

/** The unsafe name reports call `label`. */
export function unsafeName(label: string): UnsafeName {
  const found = UNSAFE_LOCAL_NAMES.find((n) => n.label === label);
  if (found === undefined) throw new Error(`no unsafe name labelled ${label}`);
  return found;
}

/** Names that would command a terminal or read as another name if printed raw. */
export const TERMINAL_TRICK_NAMES: readonly string[] = [
  'RMA1_\u001b]0;owned\u0007.BUFR', // OSC 0: sets the terminal's title, ended by BEL
  'x\u001b[31mred\u001b[0m.BUFR', // SGR: colours what follows
  'abc\u202eRFUB.exe', // RIGHT-TO-LEFT OVERRIDE: reads as "abcexe.BUFR"
  'a\\x1b.BUFR', // a literal backslash: an escaped name must not be mistaken for it
];

/** True when `text` holds a character a terminal acts on (C0/C1 controls but \n) or a bidi control. */
export function hasRawControl(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  return /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text);
}
