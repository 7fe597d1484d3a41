// Adam with its moments kept as two flat vectors: one update of all the weights is ~15 ops on the concatenated
// gradients instead of tfjs' ~14 ops per weight tensor (issue #13). On native TensorFlow an op costs a few
// microseconds to dispatch whatever its size, and tfjs writes each of its scalars (1 - beta1, ...) to
// TensorFlow as a new tensor: the per-weight update of the small U-Net (36 weight tensors) took 20-25 ms
// of a 230 ms training step, the flat one 6 ms (reference CNN: 12 -> 5 ms).
//
// The arithmetic is tfjs' AdamOptimizer's, op for op in float32 (same results, tests/unit/train/adam.test.ts),
// and so are getWeights/setWeights (iteration count, then each weight's first moment `<name>/m`, then each
// second moment `<name>/v`, matched to the weights by position), so checkpoints are interchangeable with
// tf.train.adam's. A step where some weight has no gradient updates the others per weight, as tfjs does.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensorMap } from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';

interface Layout {
  /** The weights' names (for getWeights), shapes and sizes, in the order of the gradients. */
  names: string[];
  shapes: number[][];
  sizes: number[];
  m: tf.Variable;
  v: tf.Variable;
}

export class FlatAdam extends tf.Optimizer {
  static get className(): string {
    // Saved and restored as Adam: the state and its meaning are Adam's.
    return 'Adam';
  }

  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;
  private layout: Layout | null = null;
  /** Per-weight moments handed out by getWeights (owned here, disposed on the next change). */
  private exported: tf.Tensor[] = [];

  constructor(
    protected learningRate: number,
    protected beta1 = 0.9,
    protected beta2 = 0.999,
    protected epsilon: number | null = null,
  ) {
    super();
    this.accBeta1 = tf.tidy(() => tf.scalar(beta1).variable(false));
    this.accBeta2 = tf.tidy(() => tf.scalar(beta2).variable(false));
    if (epsilon == null) this.epsilon = tf.backend().epsilon();
  }

  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((g) => g.name) : Object.keys(variableGradients);
    const grads = Array.isArray(variableGradients) ? variableGradients.map((g) => g.tensor) : names.map((n) => variableGradients[n]);
    const values = names.map((n) => tf.engine().registeredVariables[n]!);
    this.dropExported();
    const layout = this.ensureLayout(names, values);
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      if (grads.every((g) => g != null)) {
        const g = grads.length === 1 ? tf.reshape(grads[0]!, [-1]) : tf.concat(grads.map((t) => tf.reshape(t!, [-1])));
        const [m, v, step] = this.update(layout.m, layout.v, g, oneMinusAccBeta1, oneMinusAccBeta2);
        layout.m.assign(m);
        layout.v.assign(v);
        const parts = values.length === 1 ? [step] : tf.split(step, layout.sizes);
        values.forEach((value, i) => value.assign(tf.add(tf.reshape(parts[i]!, value.shape), value)));
      } else {
        // tfjs skips a weight without a gradient (its moments stay as they are): per weight, like tfjs.
        const ms = tf.split(layout.m, layout.sizes);
        const vs = tf.split(layout.v, layout.sizes);
        grads.forEach((grad, i) => {
          if (grad == null) return;
          const [m, v, step] = this.update(ms[i]!, vs[i]!, tf.reshape(grad, [-1]), oneMinusAccBeta1, oneMinusAccBeta2);
          ms[i] = m;
          vs[i] = v;
          values[i]!.assign(tf.add(tf.reshape(step, values[i]!.shape), values[i]!));
        });
        layout.m.assign(tf.concat(ms));
        layout.v.assign(tf.concat(vs));
      }
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  /** tfjs' Adam update of one set of moments: the new moments and the step to add to the weights. */
  private update(m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, oneMinusAccBeta1: tf.Tensor, oneMinusAccBeta2: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
    const newM = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    const correctedM = tf.div(newM, oneMinusAccBeta1);
    const correctedV = tf.div(newV, oneMinusAccBeta2);
    const step = tf.mul(tf.div(correctedM, tf.add(tf.sqrt(correctedV), this.epsilon!)), -this.learningRate);
    return [newM, newV, step];
  }

  /** The flat moments for these weights: zeros on the first step; by position, as tfjs matches them. */
  private ensureLayout(names: string[], values: tf.Variable[]): Layout {
    const shapes = values.map((v) => v.shape);
    const sizes = values.map((v) => v.size);
    if (this.layout) {
      const same = this.layout.sizes.length === sizes.length && this.layout.sizes.every((s, i) => s === sizes[i]);
      if (!same) throw new Error(`Adam was set up for ${this.layout.sizes.length} weights of other sizes than these ${sizes.length}.`);
      return this.layout;
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    this.layout = {
      names,
      shapes,
      sizes,
      m: tf.tidy(() => tf.zeros([total]).variable(false)),
      v: tf.tidy(() => tf.zeros([total]).variable(false)),
    };
    return this.layout;
  }

  private dropExported(): void {
    tf.dispose(this.exported);
    this.exported = [];
  }

  override dispose(): void {
    super.dispose();
    this.dropExported();
    this.accBeta1.dispose();
    this.accBeta2.dispose();
    if (this.layout) tf.dispose([this.layout.m, this.layout.v]);
    this.layout = null;
  }

  /** tfjs Adam's format: the iteration count (a new tensor), then every `<name>/m`, then every `<name>/v`. */
  override async getWeights(): Promise<NamedTensor[]> {
    this.dropExported();
    const iterations = await this.saveIterations();
    const layout = this.layout;
    if (!layout) return [iterations];
    const split = (flat: tf.Tensor): tf.Tensor[] =>
      tf.tidy(() => tf.split(flat, layout.sizes).map((part, i) => tf.reshape(part, layout.shapes[i]!)));
    const ms = split(layout.m);
    const vs = split(layout.v);
    this.exported = [...ms, ...vs];
    return [
      iterations,
      ...ms.map((tensor, i) => ({ name: `${layout.names[i]}/m`, tensor })),
      ...vs.map((tensor, i) => ({ name: `${layout.names[i]}/v`, tensor })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const moments = await this.extractIterations(weightValues);
    this.dropExported();
    tf.tidy(() => {
      this.accBeta1.assign(tf.pow(this.beta1, this.iterations_ + 1));
      this.accBeta2.assign(tf.pow(this.beta2, this.iterations_ + 1));
    });
    if (this.layout) tf.dispose([this.layout.m, this.layout.v]);
    this.layout = null;
    const count = moments.length / 2;
    if (count === 0) return;
    const first = moments.slice(0, count);
    const second = moments.slice(count);
    const flat = (list: NamedTensor[]): tf.Variable => tf.tidy(() => tf.concat(list.map((w) => tf.reshape(w.tensor, [-1]))).variable(false));
    this.layout = {
      names: first.map((w) => w.name.replace(/\/m$/, '')),
      shapes: first.map((w) => w.tensor.shape),
      sizes: first.map((w) => w.tensor.size),
      m: flat(first),
      v: flat(second),
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** The studio's Adam (tf.train.adam's arguments and results, fewer ops). */
export function adam(learningRate: number, beta1?: number, beta2?: number, epsilon?: number): tf.Optimizer {
  return new FlatAdam(learningRate, beta1, beta2, epsilon ?? null);
}
