/**
 * Text from remote servers (file names, error replies) shown on an operator's terminal: control
 * characters could move the cursor, retitle the window (`ESC ]0;…`), recolour or hide output, and
 * bidi controls could make one name read as another. They are printed as visible `\xNN` / `\uNNNN`
 * escapes instead; a backslash is doubled so an escape cannot be faked.
 */

/** C0 controls, DEL, C1 controls, and the Unicode bidi formatting characters. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g;

/** `a\x1b]0;x\x07.BUFR` -> `a\x1b]0;x\x07.BUFR` as printable text (one line, no escape sequence). */
export function escapeControlChars(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
