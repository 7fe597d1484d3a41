"""The Keras peer of `npm run bench:engine`: the same reference CNN, batch and image sizes in Keras on
TensorFlow (the source study's framework), on the same machine, timed the same way (medians).

Run by scripts/bench-engine.ts when a Python with TensorFlow is found (or named with --python); it prints
one JSON line: {"tensorflow": version, "rows": [{"model", "task", "medianMs", "reps"}]}.

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


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--height", type=int, default=576)
    parser.add_argument("--width", type=int, default=720)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    model = reference_cnn()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    x = rng.random((args.batch, args.patch, args.patch, 3), dtype=np.float32)
    y = rng.random((args.batch, args.patch, args.patch, 3), dtype=np.float32)
    train = timed(lambda: model.train_on_batch(x, y), warmup=2, reps=args.steps)

    image = tf.constant(rng.random((1, args.height, args.width, 3), dtype=np.float32))
    # model(x) runs eagerly layer by layer; a tf.function is how a Keras user restores at speed.
    infer_fn = tf.function(lambda t: model(t, training=False))
    infer = timed(lambda: infer_fn(image).numpy(), warmup=1, reps=args.runs)

    rows = [
        {"model": "reference", "task": "train", "medianMs": statistics.median(train), "reps": len(train)},
        {"model": "reference", "task": "infer", "medianMs": statistics.median(infer), "reps": len(infer)},
    ]
    sys.stdout.write(json.dumps({"tensorflow": tf.__version__, "rows": rows}) + "\n")


if __name__ == "__main__":
    main()
