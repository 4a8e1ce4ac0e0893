#!/usr/bin/env python3
"""Reference vectors for framework/consensus/weights/v11.ts (SDK v11 SetWeights weight conforming).

Restates, in plain Python floats as the v11 SDK computes them, the three steps of SetWeights before the
extrinsic: clip to the subnet's max weight limit (skipped when the limit is 65535 or for a lone self-weight),
max-upscale to u16 with Python's round() dropping zeros, and refuse fewer non-zero values than
min_allowed_weights. Cases come from a seeded random.Random, so no numpy is needed.
Prints JSON on stdout: {"cases": [{uids, weights, minAllowedWeights, maxWeightsLimit, selfUid, out|error}]}.
"""
import json
import random
import sys

U16 = 65535
EPS = 1e-7


class Refused(Exception):
    pass


def clip(ws, limit):
    n = len(ws)
    total = float(sum(ws))
    if n == 0 or total <= 0:
        raise Refused("zero")
    if n * limit <= 1:
        return [1.0 / n for _ in ws]
    est = sorted(w / total for w in ws)
    if est[-1] <= limit:
        return [w / total for w in ws]
    running, cums = 0.0, []
    for e in est:
        running += e
        cums.append(running)
    k = 0
    for i, e in enumerate(est):
        if e / ((n - i - 1) * e + cums[i] + EPS) < limit:
            k += 1
    cut = (limit * cums[k - 1] - EPS) / (1 - limit * (n - k)) * total
    capped = [min(float(w), cut) for w in ws]
    s = sum(capped)
    return [w / s for w in capped]


def to_u16(uids, ws):
    top = max(ws) if ws else 0
    if top == 0:
        return [], []
    ou, ov = [], []
    for u, w in zip(uids, ws):
        v = round((w / top) * U16)
        if v != 0:
            ou.append(u)
            ov.append(v)
    return ou, ov


def conform(uids, ws, min_allowed, max_limit, self_uid):
    lone_self = self_uid is not None and uids == [self_uid]
    floats = list(ws)
    if not lone_self and max_limit < U16:
        floats = clip(floats, max_limit / U16)
    ou, ov = to_u16(uids, floats)
    if not ou:
        raise Refused("zero")
    if not lone_self and len(ou) < min_allowed:
        raise Refused("too_few")
    return ou, ov


def cases(rng):
    fixed = [
        # uids, weights, min_allowed, max_limit, self_uid
        ([0, 1, 2], [0.5, 0.25, 0.25], 1, U16, None),
        ([0, 1, 2, 3], [1.0, 0.5, 0.0, 1e-6], 1, U16, None),  # zero and tiny dropped, no padding
        ([0, 1, 2, 3], [1.0, 0.5, 0.0, 1e-6], 3, U16, None),  # 2 non-zero < 3: refused (v10 would pad)
        ([0, 1], [0.0, 0.0], 1, U16, None),  # all zero: refused
        ([4, 9], [2.0, 1.0], 1, U16, None),  # 32767.5 -> 32768 (half to even)
        ([0, 1], [131070.0, 1.0], 1, U16, None),  # 0.5 -> 0, dropped
        ([0, 1, 2], [65535.0, 2.5, 3.5], 1, U16, None),  # 2.5 -> 2, 3.5 -> 4
        (list(range(12)), [1.0] * 11 + [100.0], 1, 6553, None),  # one clipped to the limit
        (list(range(14)), [100, 90] + [1] * 12, 1, 6553, None),  # two clipped
        (list(range(5)), [1.0, 2.0, 3.0, 4.0, 5.0], 1, 13107, None),  # n*limit == 1: uniform
        (list(range(6)), [0, 0, 0, 5, 0, 1], 1, 13107, None),  # zeros count towards n in the clip
        ([3], [1.0], 8, 655, 3),  # lone self-weight: exempt from both limits
        ([3], [1.0], 8, 655, 2),  # a lone weight to someone else is not
        (list(range(20)), list(range(20)), 5, U16, None),  # zero at uid 0 dropped, no quantile
    ]
    out = list(fixed)
    for _ in range(250):
        n = rng.randint(1, 48)
        power = rng.choice([1, 3, 8])
        ws = [rng.random() ** power for _ in range(n)]
        zero_share = rng.choice([0.0, 0.3, 0.9])
        ws = [0.0 if rng.random() < zero_share else w for w in ws]
        if rng.random() < 0.1:
            ws = [w * 1e-30 for w in ws]
        uids = rng.sample(range(256), n)
        out.append((uids, ws, rng.randint(0, 12), rng.choice([655, 3276, 6553, 13107, 32768, 65535]), rng.choice([None, uids[0]])))
    return out


def main():
    rng = random.Random(20261201)
    res = []
    for uids, ws, min_allowed, max_limit, self_uid in cases(rng):
        case = {"uids": uids, "weights": [float(w) for w in ws], "minAllowedWeights": min_allowed, "maxWeightsLimit": max_limit, "selfUid": self_uid}
        try:
            u, v = conform(uids, [float(w) for w in ws], min_allowed, max_limit, self_uid)
            case["out"] = {"uids": u, "values": v}
        except Refused as e:
            case["error"] = str(e)
        res.append(case)
    json.dump({"generator": "scripts/vectors/weights_v11.py", "cases": res}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
