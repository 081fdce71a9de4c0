/**
 * Encoders turn user input (images, text) into MRL embeddings. Each lives in a model directory
 * `models/<name>/` holding TF.js model files and a `manifest.json`; `loader` in the manifest
 * says which implementation loads it.
 */

export interface ModelManifest {
  name: string;
  /** Which loader in src/encoders/registry.ts reads this directory. */
  loader: 'image-mlp' | 'text-use-adaptor';
  input: { kind: 'image'; shape: [number, number] } | { kind: 'text'; maxLength: number };
  /** Output dimension D of the embedding. */
  dim: number;
  /** MRL nesting dims (ascending, the last is D). */
  nesting: number[];
  /** 'mrl' | 'mrl-e' | 'fixed' (one dim only). */
  objective: 'mrl' | 'mrl-e' | 'fixed';
  training: { data: string; examples: number; epochs: number; seconds: number; seed: number; [k: string]: unknown };
  /** Evaluation figures measured when the model was trained, keyed by name then by dim. */
  metrics: Record<string, Record<string, number>>;
  /** Class names of the classification heads, where the model has them. */
  classes?: string[];
  createdAt: string;
}

export interface Encoder {
  readonly manifest: ModelManifest;
  /**
   * Checks one input before any tensor is made; throws MrlError('VALIDATION' | 'INVALID_INPUT')
   * naming `field` (e.g. "inputs[3]").
   */
  validate(input: unknown, field: string): void;
  /** Full-D embeddings (not normalised) of validated inputs, one Float32Array of length D each. */
  embed(inputs: unknown[]): Promise<Float32Array[]>;
  /** Tokens the model reads for one validated input (text encoders; usage in POST /v1/embeddings). */
  countTokens?(input: unknown): number;
  /** Releases the model's tensors. */
  dispose(): void;
}
