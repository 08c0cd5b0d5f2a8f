/**
 * A job's output bytes as text that is safe and honest to show: decoded as UTF-8 with U+FFFD for what is not (binary
 * output cannot break the page: it only ever becomes text, which Preact escapes), and control characters made
 * visible as their Unicode "control pictures" (␀ ␇ ␛ …; U+2400 + code, DEL as ␡) instead of acting on the page or
 * vanishing. Newlines and tabs stay; a carriage return is shown only when it does not end a line (CRLF reads as a line).
 */

// Matching control characters is the point here.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]|\r(?!\n)/g;

export function showControls(text: string): string {
  return text.replace(CONTROL, (char) => String.fromCharCode(char === '\x7F' ? 0x2421 : 0x2400 + char.charCodeAt(0)));
}

/**
 * How many bytes at the start of `bytes` continue a character begun before them (UTF-8 continuation bytes, 10xxxxxx;
 * at most 3, the most a character has): a range read from the middle of a stream is shown from the byte after them,
 * and the range before it ends with them, so that a character cut by a range's start is shown whole once, not as two
 * U+FFFD. 0 for a range at the stream's start.
 */
export function partialCharacterBytes(bytes: Uint8Array): number {
  let count = 0;
  while (count < 3 && count < bytes.length && (bytes[count]! & 0xc0) === 0x80) count++;
  return count;
}

/** Decodes chunks of one stream in order: a character split across two chunks is decoded whole. */
export class OutputDecoder {
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });

  /** The text of `bytes`, control characters shown; `end` at the stream's end flushes a truncated character. */
  decode(bytes: Uint8Array, end = false): string {
    return showControls(this.#decoder.decode(bytes, { stream: !end }));
  }
}
