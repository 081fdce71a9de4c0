import { mulberry32, shuffleInPlace } from '../../core/rng.js';

/**
 * Splits by document, within each genre (so every genre is held out, and no document has
 * paragraphs on both sides): returns the documents held out.
 */
export function heldOutDocuments(items: { doc: string; genre: string }[], fraction: number, seed: number): Set<string> {
  const byGenre = new Map<string, Set<string>>();
  for (const { doc, genre } of items) {
    if (!byGenre.has(genre)) byGenre.set(genre, new Set());
    byGenre.get(genre)!.add(doc);
  }
  const random = mulberry32(seed);
  const out = new Set<string>();
  for (const genre of [...byGenre.keys()].sort()) {
    const docs = shuffleInPlace([...byGenre.get(genre)!].sort(), random);
    const take = docs.length < 2 ? 0 : Math.max(1, Math.round(docs.length * fraction));
    for (const d of docs.slice(0, take)) out.add(d);
  }
  return out;
}
