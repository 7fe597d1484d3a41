"""The Keras peer of `npm run bench:engine`: the same reference CNN, batch and image sizes in Keras on
TensorFlow (the source study's framework), on the same machine, timed the same way (medians).

Run by scripts/bench-engine.ts when a Python with TensorFlow is found (or named with --python); it prints
one JSON line: {"tensorflow": version, "rows": [{"model", "task", "medianMs", "cpuMs", "reps", "params"}]}
(cpuMs: the median rep's process CPU time, all threads). Besides the reference CNN it builds Keras twins of
the bundled architectures (ffdnet as `denoise`, unet as `old-photo`); their parameter counts let bench-engine
check they are the same networks. Keras 3 compiles train_on_batch with jit_compile="auto", which is off (no
XLA) on a machine without a GPU: the peer is TensorFlow's graph executor with grappler and oneDNN.

The reference CNN (src/main/engine/models/reference.ts): input + net(input), net = 9 x [3x3 conv, 32
channels, ReLU] + a 3x3 conv to 3 channels, 'same' padding. Training: one step of MSE with Adam on a batch
of 16 64x64 patches (train_on_batch, which Keras runs as a compiled graph). Inference: one 576x720 image.
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras


def reference_cnn(layers=10, filters=32, channels=3):
    inputs = keras.Input(shape=(None, None, channels))
    x = inputs
    for _ in range(layers - 1):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    residual = keras.layers.Conv2D(channels, 3, padding="same")(x)
    return keras.Model(inputs, keras.layers.Add()([inputs, residual]))


def ffdnet(depth=10, filters=64, channels=3):
    """The studio's `ffdnet` at the bundled `denoise` settings: pixel-unshuffle by 2, depth convs at half
    resolution (ReLU between), pixel-shuffle back, the prediction subtracted from the input (blind: no map)."""
    inputs = keras.Input(shape=(None, None, channels))
    x = keras.layers.Lambda(lambda t: tf.nn.space_to_depth(t, 2))(inputs)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    for _ in range(2, depth):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(4 * channels, 3, padding="same")(x)
    x = keras.layers.Lambda(lambda t: tf.nn.depth_to_space(t, 2))(x)
    return keras.Model(inputs, keras.layers.Subtract()([inputs, x]))


def unet(filters=16, depth=3, channels=3):
    """The studio's `unet` at the bundled `old-photo` settings: two 3x3 convs and a 2x2 max-pool per level, a
    bottleneck, 2x2 transposed convs with concatenated skips, a 1x1 conv to the channels plus the input."""
    inputs = keras.Input(shape=(None, None, channels))
    x = inputs
    skips = []
    for i in range(depth):
        x = keras.layers.Conv2D(filters * 2**i, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(filters * 2**i, 3, padding="same", activation="relu")(x)
        skips.append(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(filters * 2**depth, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(filters * 2**depth, 3, padding="same", activation="relu")(x)
    for i in reversed(range(depth)):
        x = keras.layers.Conv2DTranspose(filters * 2**i, 2, strides=2, padding="same")(x)
        x = keras.layers.Concatenate()([x, skips[i]])
        x = keras.layers.Conv2D(filters * 2**i, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(filters * 2**i, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(channels, 1)(x)
    return keras.Model(inputs, keras.layers.Add()([x, inputs]))


MODELS = {"reference": reference_cnn, "ffdnet": ffdnet, "unet": unet}


def timed(fn, warmup, reps):
    """Wall and process CPU milliseconds (all threads) of each rep."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return times, cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--height", type=int, default=576)
    parser.add_argument("--width", type=int, default=720)
    parser.add_argument("--models", default="reference,ffdnet,unet")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.random((args.batch, args.patch, args.patch, 3), dtype=np.float32)
    y = rng.random((args.batch, args.patch, args.patch, 3), dtype=np.float32)
    image = tf.constant(rng.random((1, args.height, args.width, 3), dtype=np.float32))
    rows = []
    for name in args.models.split(","):
        model = MODELS[name]()
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        reference = name == "reference"
        train, train_cpu = timed(lambda: model.train_on_batch(x, y), warmup=2, reps=args.steps if reference else max(2, args.steps // 2))
        # model(x) runs eagerly layer by layer; a tf.function is how a Keras user restores at speed.
        infer_fn = tf.function(lambda t, m=model: m(t, training=False))
        infer, infer_cpu = timed(lambda: infer_fn(image).numpy(), warmup=1, reps=args.runs if reference else 2)
        params = int(model.count_params())
        for task, wall, cpu in (("train", train, train_cpu), ("infer", infer, infer_cpu)):
            rows.append({"model": name, "task": task, "medianMs": statistics.median(wall), "cpuMs": statistics.median(cpu), "reps": len(wall), "params": params})
    sys.stdout.write(json.dumps({"tensorflow": tf.__version__, "rows": rows}) + "\n")


if __name__ == "__main__":
    main()
