/**
 * Compares strings by code point, as SQLite's BINARY collation compares their UTF-8 bytes
 * (UTF-8 keeps code-point order). JavaScript's `<` compares UTF-16 units instead, which puts
 * a character above U+FFFF (a surrogate pair, units D800–DFFF) before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1; // a pair's code point is above every single unit's
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
