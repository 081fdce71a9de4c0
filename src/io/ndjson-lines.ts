const LF = 10;
const CR = 13;

/** A line longer than the limit: its bytes were dropped as they arrived. */
export const TOO_LONG = Symbol('line too long');

/**
 * The lines of a byte (or text) stream as Buffers, split as `readline` splits them (`\n`,
 * `\r\n` or a lone `\r`; the last line needs no terminator), without decoding them. A line
 * that grows beyond `maxLineBytes` (and holds no `\r`) is dropped as it streams in and
 * reported as TOO_LONG, so a body without newlines never sits in memory whole.
 */
export async function* byteLines(input: AsyncIterable<Buffer | string>, maxLineBytes = Infinity): AsyncGenerator<Buffer | typeof TOO_LONG> {
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = false;
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let from = 0;
    for (let nl = b.indexOf(LF, from); nl >= 0; nl = b.indexOf(LF, from)) {
      if (skipping) yield TOO_LONG;
      else if (parts.length === 0) yield* splitCr(b.subarray(from, nl));
      else {
        parts.push(b.subarray(from, nl));
        yield* splitCr(Buffer.concat(parts));
      }
      parts = [];
      held = 0;
      skipping = false;
      from = nl + 1;
    }
    if (skipping || from === b.length) continue;
    parts.push(b.subarray(from));
    held += b.length - from;
    if (held > maxLineBytes + 1 && !parts.some((p) => p.includes(CR))) {
      skipping = true;
      parts = [];
    }
  }
  if (skipping) yield TOO_LONG;
  else if (parts.length) yield* splitCr(Buffer.concat(parts));
}

/** One `\n`-terminated segment: a trailing `\r` dropped, any other `\r` ends a line too. */
function* splitCr(seg: Buffer): Generator<Buffer> {
  const end = seg.length > 0 && seg[seg.length - 1] === CR ? seg.length - 1 : seg.length;
  let from = 0;
  for (let cr = seg.indexOf(CR, from); cr >= 0 && cr < end; cr = seg.indexOf(CR, from)) {
    yield seg.subarray(from, cr);
    from = cr + 1;
  }
  yield seg.subarray(from, end);
}
