#!/usr/bin/env python3
"""Reference vectors for framework/consensus/weights (client-side weight processing).

Runs the bittensor SDK v10 weight algorithms (utils/weight_utils.py: normalize_max_weight,
process_weights, convert_weights_and_uids_for_emit) re-stated here with numpy, keeping the SDK's dtypes
(float32 inputs, float64 fallback branches, Python-float scalars) so numpy 2 produces the SDK's exact bits.
Prints JSON on stdout:  python3 scripts/vectors/weights.py > test/weights/vectors.json
"""
import json
import sys

import numpy as np

U16_MAX = 65535


def normalize_max_weight(x, limit=0.1):
    epsilon = 1e-7
    weights = x.copy()
    values = np.sort(weights)
    if x.sum() == 0 or x.shape[0] * limit <= 1:
        return np.ones_like(x) / x.shape[0]
    estimation = values / values.sum()
    if estimation.max() <= limit:
        return weights / weights.sum()
    cumsum = np.cumsum(estimation, 0)
    estimation_sum = np.array([(len(values) - i - 1) * estimation[i] for i in range(len(values))])
    n_values = (estimation / (estimation_sum + cumsum + epsilon) < limit).sum()
    cutoff_scale = (limit * cumsum[n_values - 1] - epsilon) / (1 - (limit * (len(estimation) - n_values)))
    cutoff = cutoff_scale * values.sum()
    weights[weights > cutoff] = cutoff
    return weights / weights.sum()


def process_weights(uids, weights, num_neurons, min_allowed_weights, max_weight_limit, exclude_quantile=0):
    weights = weights.astype(np.float32)
    quantile = exclude_quantile / U16_MAX
    nz_idx = np.argwhere(weights > 0).squeeze(axis=1)
    nz_uids = uids[nz_idx]
    nz_weights = weights[nz_idx]
    if nz_weights.size == 0 or num_neurons < min_allowed_weights:
        final = np.ones(num_neurons, dtype=np.int64) / num_neurons
        return np.arange(len(final)), final
    if nz_weights.size < min_allowed_weights:
        padded = np.ones(num_neurons, dtype=np.int64) * 1e-5
        padded[nz_idx] += nz_weights
        normalized = normalize_max_weight(x=padded, limit=max_weight_limit)
        return np.arange(len(normalized)), normalized
    max_exclude = max(0, len(nz_weights) - min_allowed_weights) / len(nz_weights)
    q = min([quantile, max_exclude])
    lowest = np.quantile(nz_weights, q)
    keep = lowest <= nz_weights
    return nz_uids[keep], normalize_max_weight(x=nz_weights[keep], limit=max_weight_limit)


def convert_for_emit(uids, weights):
    weights = list(weights)
    uids = list(uids)
    if sum(weights) == 0:
        return [], []
    max_weight = float(max(weights))
    out_uids, out_vals = [], []
    for w, u in zip([float(v) / max_weight for v in weights], uids):
        v = round(float(w) * U16_MAX)
        if v != 0:
            out_vals.append(v)
            out_uids.append(u)
    return out_uids, out_vals


def f32_list(values):
    return [float(v) for v in np.asarray(values, dtype=np.float32)]


def normalize_cases(rng):
    cases = [
        ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0.1),  # uniform, under the limit
        ([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0.1),  # one dominant entry clipped
        ([100, 90, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0.1),  # two clipped
        ([0, 0, 0, 0], 0.5),  # zero sum -> uniform
        ([3, 1, 2], 0.3),  # n*limit <= 1 -> uniform
        ([5, 4, 3, 2, 1], 0.2),  # n*limit == 1 exactly -> uniform
        ([5, 4, 3, 2, 1], 0.25),
        ([1e-30, 1e-30, 1], 0.5),  # tiny values
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.1),
        ([0.1] * 10 + [0.5], 0.1),
    ]
    for n in (11, 64, 129, 256, 1000):
        cases.append((rng.random(n).tolist(), 0.1))
        cases.append(((rng.random(n) ** 6).tolist(), float(rng.choice([0.05, 0.1, 0.25, 0.5]))))
    # Random sweep: small arrays, skewed values, limits around the n·limit = 1 boundary.
    for _ in range(150):
        n = int(rng.integers(2, 40))
        x = rng.random(n) ** float(rng.choice([1, 3, 8]))
        x[rng.random(n) < 0.2] = float(rng.choice([0.0, 1.0]))
        cases.append((x.tolist(), float(rng.choice([0.05, 0.1, 0.2, 0.3, 0.5, 1 / n, 1.5 / n, 6553 / 65535]))))
    out = []
    for x, limit in cases:
        arr = np.asarray(x, dtype=np.float32)
        out.append({"x": f32_list(arr), "limit": limit, "dtype": "float32", "y": [float(v) for v in normalize_max_weight(arr, limit)]})
        arr64 = np.asarray(x, dtype=np.float64)
        out.append({"x": [float(v) for v in arr64], "limit": limit, "dtype": "float64", "y": [float(v) for v in normalize_max_weight(arr64, limit)]})
    return out


def process_cases(rng):
    raw = [
        # (uids, weights, n, min_allowed, max_limit_u16, exclude_quantile_u16)
        (list(range(10)), [0.0] * 10, 10, 1, 65535, 0),  # all zero
        (list(range(10)), [1.0] * 10, 10, 11, 6553, 0),  # n < min_allowed
        (list(range(10)), [0, 0, 5, 0, 0, 0, 0, 0, 0, 1], 10, 3, 32768, 0),  # nnz < min_allowed (float64 path)
        (list(range(10)), [0, 0, 5, 0, 0, 0, 0, 0, 0, 1], 10, 3, 6553, 0),
        (list(range(20)), list(range(20)), 20, 1, 6553, 0),  # zero at uid 0 dropped
        (list(range(20)), list(range(20)), 20, 5, 65535, 32768),  # exclude median
        (list(range(20)), list(range(20)), 20, 15, 65535, 65535),  # exclude capped by min_allowed
        (list(range(8)), [0.3, 0.1, -1.0, 0.2, 0.0, 0.2, 0.9, 1e-9], 8, 2, 16384, 13107),  # negatives dropped
        ([7, 3, 5, 1], [1.0, 1.0, 1.0, 1.0], 10, 1, 65535, 0),  # sparse uids
        (list(range(12)), [1.0] * 11 + [100.0], 12, 1, 6553, 0),  # clip one
        (list(range(5)), [1.0, 2.0, 3.0, 4.0, 5.0], 5, 1, 13107, 0),  # n*limit == 1 -> uniform
    ]
    for n in (16, 64, 256):
        w = rng.random(n)
        w[rng.random(n) < 0.3] = 0
        raw.append((list(range(n)), w.tolist(), n, int(rng.integers(1, 8)), int(rng.choice([655, 6553, 32768, 65535])), int(rng.choice([0, 6553, 16384, 40000]))))
    for n in (32, 256):
        w = rng.random(n) ** 4
        raw.append((list(range(n)), w.tolist(), n, 8, 655 * 5, 0))
    for _ in range(100):
        n = int(rng.integers(1, 40))
        w = rng.random(n) ** float(rng.choice([1, 4]))
        w[rng.random(n) < float(rng.choice([0.0, 0.3, 0.9]))] = 0
        raw.append((list(range(n)), w.tolist(), n, int(rng.integers(0, 12)),
                    int(rng.choice([655, 6553, 13107, 32768, 65535])), int(rng.choice([0, 100, 6553, 32768, 65535]))))
    out = []
    for uids, weights, n, min_allowed, max_limit, exq in raw:
        w32 = np.asarray(weights, dtype=np.float32)
        got_uids, got_weights = process_weights(np.asarray(uids, dtype=np.int64), w32, n, min_allowed, max_limit / U16_MAX, exq)
        out.append({
            "uids": uids, "weights": f32_list(w32), "n": n, "minAllowedWeights": min_allowed,
            "maxWeightsLimit": max_limit, "excludeQuantile": exq,
            "out": {"uids": [int(u) for u in got_uids], "weights": [float(v) for v in got_weights]},
        })
    return out


def emit_cases(rng):
    raw = [
        ([0, 1, 2], [0.5, 0.25, 0.25]),
        ([0, 1, 2, 3], [1.0, 0.5, 0.0, 1e-6]),  # zero and tiny dropped
        ([0, 1], [0.0, 0.0]),  # zero sum
        ([4, 9], [2.0, 1.0]),  # 32767.5 -> 32768 (half to even)
        ([0, 1], [131070.0, 1.0]),  # 0.5 -> 0 (half to even drops it)
        ([0, 1], [131070.0, 3.0]),  # 1.5 -> 2
        ([0, 1, 2], [65535.0, 2.5, 3.5]),  # 2.5 -> 2, 3.5 -> 4
    ]
    # Near-ties where rounding the weights to float32 first (set_weights path) flips the u16 result.
    for k in (101, 32767, 40000):
        for d in (0.0004, 0.001, -0.0004, -0.001):
            raw.append(([0, 1], [0.7, 0.7 * (k + 0.5 + d) / U16_MAX]))
    for n in (10, 100):
        raw.append((list(range(n)), rng.random(n).tolist()))
        w32 = np.asarray(rng.random(n) ** 3, dtype=np.float32)
        raw.append((list(range(n)), [float(v) for v in w32]))
    out = []
    for uids, weights in raw:
        u, v = convert_for_emit(uids, weights)
        # set_weights/reveal path (convert_and_normalize_weights_and_uids): lists become float32 arrays first.
        u32, v32 = convert_for_emit(uids, np.array(weights, dtype=np.float32).tolist())
        out.append({"uids": uids, "weights": weights, "out": {"uids": u, "values": v}, "outF32": {"uids": u32, "values": v32}})
    return out


def main():
    rng = np.random.default_rng(20260315)
    vectors = {
        "generator": "scripts/vectors/weights.py",
        "numpy": np.__version__,
        "normalize": normalize_cases(rng),
        "process": process_cases(rng),
        "emit": emit_cases(rng),
    }
    json.dump(vectors, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
