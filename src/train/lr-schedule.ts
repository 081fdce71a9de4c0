import { tf } from '../encoders/tf-backend.js';

/** Adam whose learning rate can change between steps (TF.js keeps it in a protected field read every step). */
export class ScheduledAdam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999);
  }
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

/** Cosine decay from `base` at step 0 to `base·floor` at the last step. */
export function cosineLearningRate(base: number, step: number, totalSteps: number, floor = 0.05): number {
  const t = totalSteps <= 1 ? 1 : Math.min(1, step / (totalSteps - 1));
  return base * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t)));
}
