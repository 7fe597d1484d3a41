// The gradient of a convolution with respect to its input (a "transposed convolution"), written as a few
// ordinary stride-1 correlations so it runs on the backend's fast conv2d / depthwiseConv2d.
//
// Forward, along one axis: y[o] = sum_t x[o*s + t*d - p] * w[t]   (stride s, dilation d, padding p).
// Backward: dx[i] = sum over (o, t) with o*s + t*d - p = i of dy[o] * w[t].
//
// Split the outputs i by phase r = i mod s (i = q*s + r). For one phase only the taps t with
// (r + p - t*d) divisible by s contribute, and for them o = q + (r + p - t*d) / s: a stride-1 correlation
// of dy with those taps in reverse order. Each phase therefore costs exactly its share of the
// multiply-adds (no multiplications by inserted zeros, unlike the textbook "dilate dy, then convolve"),
// and the s*s phase results are interleaved into dx with concat + reshape (no transposes).
//
// tfjs allows stride > 1 or dilation > 1, never both, so a phase is either a stride-1 correlation of
// every s-th tap (dilation 1) or, with stride 1, one phase with dilation d.
import * as tf from '@tensorflow/tfjs-core';
import { padOrCrop, type Pads4 } from './compose';

/** One output phase along one axis. */
export interface AxisPhase {
  /** Number of outputs of this phase: positions r, r + s, r + 2s, ... below the input size. */
  count: number;
  /** Filter taps in correlation order (descending). Empty: nothing reaches this phase (it stays zero). */
  taps: number[];
  /** Zero padding (positive) or cropping (negative) of dy before / after, for a 'valid' correlation. */
  before: number;
  after: number;
  /** Dilation of the phase's correlation. */
  dilation: number;
}

export function planAxis(
  inSize: number,
  outSize: number,
  filterSize: number,
  stride: number,
  dilation: number,
  padBefore: number,
): AxisPhase[] {
  if (stride > 1 && dilation > 1) throw new Error('A transposed convolution cannot have both stride and dilation above 1.');
  const phases: AxisPhase[] = [];
  for (let r = 0; r < stride; r++) {
    const count = Math.max(0, Math.ceil((inSize - r) / stride));
    const taps: number[] = [];
    for (let t = filterSize - 1; t >= 0; t--) {
      if ((((r + padBefore - t * dilation) % stride) + stride) % stride === 0) taps.push(t);
    }
    if (count === 0 || taps.length === 0) {
      phases.push({ count, taps: [], before: 0, after: 0, dilation: 1 });
      continue;
    }
    // Consecutive taps of a phase are `stride` apart in the filter and `dilation` apart in dy.
    const base = (r + padBefore - taps[0]! * dilation) / stride;
    const lastRead = count - 1 + base + (taps.length - 1) * dilation;
    phases.push({ count, taps, before: -base, after: lastRead - (outSize - 1), dilation });
  }
  return phases;
}

/** A stride-1 'valid' correlation of dy (padded per `pads`) with a sub-filter built from the given taps. */
export type PhaseCorrelation = (
  dy: tf.Tensor4D,
  tapsH: number[],
  tapsW: number[],
  pads: Pads4,
  dilations: [number, number],
) => tf.Tensor4D;

/**
 * dx of shape [n, inH, inW, channels] from the per-phase correlations. `correlate` receives dy already
 * cropped where the plan says so, and explicit padding for the rest.
 */
export function transposedConv(
  dy: tf.Tensor4D,
  inShape: [number, number, number, number],
  rows: AxisPhase[],
  cols: AxisPhase[],
  correlate: PhaseCorrelation,
): tf.Tensor4D {
  const [n, inH, inW, channels] = inShape;
  const sh = rows.length;
  const sw = cols.length;
  const maxH = Math.ceil(inH / sh);
  const maxW = Math.ceil(inW / sw);

  const phaseOutput = (row: AxisPhase, col: AxisPhase): tf.Tensor4D => {
    if (row.taps.length === 0 || col.taps.length === 0) return tf.zeros([n, maxH, maxW, channels]);
    const { x, pads } = padOrCrop(dy, [row.before, row.after], [col.before, col.after]);
    const y = correlate(x, row.taps, col.taps, pads, [row.dilation, col.dilation]);
    // Phases with fewer outputs (sizes not divisible by the stride) are padded to a common size, and the
    // surplus is cropped after interleaving.
    const extraH = maxH - row.count;
    const extraW = maxW - col.count;
    return extraH > 0 || extraW > 0 ? tf.pad(y, [[0, 0], [0, extraH], [0, extraW], [0, 0]]) : y;
  };

  if (sh === 1 && sw === 1) return phaseOutput(rows[0]!, cols[0]!);

  // Interleave columns, then rows: stacking phases on a new axis right after the spatial axis and folding
  // it in with a reshape puts phase r of position q at q*s + r.
  const rowBlocks = rows.map((row): tf.Tensor4D => {
    const phases = cols.map((col) => phaseOutput(row, col));
    return sw === 1 ? phases[0]! : tf.reshape(tf.stack(phases, 3), [n, maxH, maxW * sw, channels]);
  });
  const full: tf.Tensor4D = sh === 1 ? rowBlocks[0]! : tf.reshape(tf.stack(rowBlocks, 2), [n, maxH * sh, maxW * sw, channels]);
  return full.shape[1] === inH && full.shape[2] === inW ? full : tf.slice(full, [0, 0, 0, 0], [n, inH, inW, channels]);
}

/** The filter taps of a phase: rows `tapsH` and columns `tapsW` of a [kh, kw, ...] filter, in that order. */
export function gatherTaps(filter: tf.Tensor4D, tapsH: number[], tapsW: number[]): tf.Tensor4D {
  const [kh, kw] = filter.shape;
  const identity = (taps: number[], size: number) => taps.length === size && taps.every((t, i) => t === i);
  const reversed = (taps: number[], size: number) => taps.length === size && taps.every((t, i) => t === size - 1 - i);
  // The common stride-1 case is a plain 180-degree rotation; reverse is cheaper than two gathers.
  if (reversed(tapsH, kh) && reversed(tapsW, kw)) return tf.reverse(filter, [0, 1]);
  let f = filter;
  if (!identity(tapsH, kh)) f = tf.gather(f, tapsH, 0);
  if (!identity(tapsW, kw)) f = tf.gather(f, tapsW, 1);
  return f;
}
