#!/usr/bin/env python3
"""Routing-key variants on cached embeddings: the experiments behind docs/hashing.md's table.

    npm run build
    node bench/hash/run.mjs --no-speed --cache /tmp/msr.use-lite.f32 --dump /tmp/qis-dump
    node scripts/fit-codebook.mjs --cache /tmp/mmlu.use-lite.f32      # embeds all MMLU questions once
    python3 bench/hash/explore-keys.py --dump /tmp/qis-dump --corpus-cache /tmp/mmlu.use-lite.f32 [--only anchors]
    python3 bench/hash/explore-keys.py ... --only hub --reference-cache /tmp/sotu.use-lite.f32   # fit script's --reference-cache
    python3 bench/hash/explore-keys.py ... --only pool    # keys chosen among more than the 8 nearest

Fits on the MMLU embeddings only (the fit script's cache: 64 bytes of corpus digest, then N x 512
float32) and evaluates on the MSR pairs dumped by the bench (evaluation only, never fitted on).
Prints paraphrase / non-paraphrase / random meet-rates and keys per query for each variant, with
an exhaustive nearest-neighbour search (the shipped prefilter search matches it to the third
decimal). Deterministic for given inputs on one machine (seeded k-means from the fit script).
k-means variants take minutes each on one core; run under `nice -n 19` on a shared machine.
"""
import argparse
import importlib.util
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('fit', os.path.join(HERE, '../../scripts/fit-codebook-kmeans.py'))
fit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fit)
normalise, kmeans = fit.normalise, fit.kmeans


def meet_rate(keys, pairs):
    """keys: n x m ints, -1 = no key; a pair meets when the two rows share a key."""
    a, b = keys[pairs[:, 0]], keys[pairs[:, 1]]
    meet = np.zeros(len(pairs), bool)
    for i in range(a.shape[1]):
        meet |= np.any((a[:, i:i + 1] == b) & (a[:, i:i + 1] >= 0), axis=1)
    return meet.mean()


def top(Z, C, m, bias=None):
    """Indexes, scores and boundary distances (s1 - sj) / |c1 - cj| of the m nearest rows of C (scores minus bias)."""
    S = Z @ C.T
    if bias is not None:
        S -= bias[None, :]
    idx = np.argsort(-S, axis=1)[:, :m]
    sc = np.take_along_axis(S, idx, 1)
    dist = np.zeros_like(sc)
    for j in range(1, m):
        dist[:, j] = (sc[:, 0] - sc[:, j]) / np.maximum(np.linalg.norm(C[idx[:, 0]] - C[idx[:, j]], axis=1), 1e-12)
    return idx, sc, dist


def select_pooled(idx, dist, pool, tau, cap=8):
    """The nearest, then the cap-1 closest boundaries within tau among the pool nearest (rank order)."""
    d = dist[:, :pool].copy()
    d[:, 0] = -1
    order = np.sort(np.argsort(d, axis=1, kind='stable')[:, :cap], axis=1)
    return np.where(np.take_along_axis(d, order, 1) <= tau, np.take_along_axis(idx[:, :pool], order, 1), -1)


def select(tops, per, rule, value):
    """Per book: the nearest, then up to per-1 more whose margin / boundary distance is within value."""
    cols = []
    for b, (idx, sc, dist) in enumerate(tops):
        for j in range(per):
            if j == 0:
                ok = np.ones(len(idx), bool)
            elif rule == 'margin':
                ok = sc[:, j] >= sc[:, 0] - value
            else:
                ok = dist[:, j] <= value
            cols.append(np.where(ok, idx[:, j] + b * (1 << 20), -1))
    return np.stack(cols, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dump', required=True)
    ap.add_argument('--corpus-cache', required=True)
    ap.add_argument('--only', choices=['kmeans', 'margin', 'anchors', 'asymmetric', 'hub', 'pool'], help='run one family only')
    ap.add_argument('--reference-cache', help='reference sentences for the hub bias (the fit script\'s --reference-cache)')
    a = ap.parse_args()

    pairs = json.load(open(os.path.join(a.dump, 'pairs.json')))
    D = pairs['dimension']
    E = np.fromfile(os.path.join(a.dump, 'msr.f32'), dtype=np.float32).reshape(-1, D).astype(np.float64)
    P = {k: np.array(pairs[k]) for k in ('para', 'non', 'random')}
    M = np.frombuffer(open(a.corpus_cache, 'rb').read()[64:], dtype=np.float32).reshape(-1, D).astype(np.float64)
    mu = M.mean(0)
    _, _, vt = np.linalg.svd(M - mu, full_matrices=False)
    proj = vt[:128]
    z = normalise((M - mu) @ proj.T)
    Z = normalise((E - mu) @ proj.T)
    # The ceiling: no hashing, the true cosine thresholded where it admits 2% of random pairs.
    cos = lambda p: np.sum(Z[p[:, 0]] * Z[p[:, 1]], 1)
    t = np.quantile(cos(P['random']), 0.98)
    print(f'fitting points {len(M)}; cosine threshold admitting 2% of random pairs keeps {np.mean(cos(P["para"]) >= t):.3f} of paraphrases', flush=True)

    def report(keys, label):
        n = (keys >= 0).sum(1)
        print(f'{label:58s} paraphrase {meet_rate(keys, P["para"]):.3f}  non {meet_rate(keys, P["non"]):.3f}  '
              f'random {meet_rate(keys, P["random"]):.4f}  keys {n.mean():.2f} (max {n.max()})', flush=True)

    books = {}

    def book(K, b):
        if (K, b) not in books:
            books[K, b] = kmeans(z, K, 10, 20261126 + b)[0]
        return books[K, b]

    if a.only in (None, 'kmeans'):
        for K in (1024, 2048, 4096):
            tops = [top(Z, book(K, b), 1) for b in range(8)]
            report(select(tops, 1, 'margin', 0), f'k-means K={K}, 8 books, nearest in each')
    if a.only in (None, 'margin'):
        tops = [top(Z, book(4096, b), 4) for b in range(2)]
        report(select(tops, 4, 'margin', 0.05), 'k-means K=4096, 2 books <= 4 keys, margin 0.05')
        report(select(tops, 4, 'boundary', 0.05), 'k-means K=4096, 2 books <= 4 keys, boundary 0.05')
    if a.only in (None, 'anchors'):
        _, keep = np.unique(np.round(z, 4), axis=0, return_index=True)
        anchors = z[np.sort(keep)]
        tops = [top(Z, anchors, 8)]
        for tau in (0.07, 0.075, 0.08):
            report(select(tops, 8, 'boundary', tau), f'anchors ({len(anchors)}), boundary {tau}')
    if a.only in (None, 'asymmetric'):
        # Publish under few keys, look up under more: two queries meet when one's lookup keys hold
        # the other's publish key (either way round, as both nodes pull).
        _, keep = np.unique(np.round(z, 4), axis=0, return_index=True)
        tops = [top(Z, z[np.sort(keep)], 8)]

        def cross(A, B, p):
            a, b = A[p[:, 0]], B[p[:, 1]]
            m = np.zeros(len(p), bool)
            for i in range(a.shape[1]):
                m |= np.any((a[:, i:i + 1] == b) & (a[:, i:i + 1] >= 0), axis=1)
            return m

        for tp, tl in ((0.0, 0.075), (0.0, 0.16), (0.02, 0.075), (0.02, 0.11), (0.04, 0.075), (0.04, 0.11)):
            pub, look = select(tops, 8, 'boundary', tp), select(tops, 8, 'boundary', tl)
            rate = {k: (cross(pub, look, P[k]) | cross(look, pub, P[k])).mean() for k in P}
            print(f'{"anchors, publish boundary %.2f (%.2f keys), look up %.3f (%.2f keys)" % (tp, (pub >= 0).sum(1).mean(), tl, (look >= 0).sum(1).mean()):58s} '
                  f'paraphrase {rate["para"]:.3f}  non {rate["non"]:.3f}  random {rate["random"]:.4f}', flush=True)
        for tau in (0.045, 0.06):
            report(select(tops, 8, 'boundary', tau), f'anchors, symmetric boundary {tau}')
    if a.only in (None, 'pool'):
        # Candidates beyond the 8 nearest: the boundary distance is not monotone in rank, so an anchor
        # ranked 9th or later can have a closer boundary than one of the 8 nearest. Each pool is
        # compared at equal random meet-rate (and equal paraphrase meet-rate) by sweeping the boundary.
        _, keep = np.unique(np.round(z, 4), axis=0, return_index=True)
        idx, _, dist = top(Z, z[np.sort(keep)], 24)
        taus = np.arange(0.06, 0.1301, 0.0025)
        for pool in (8, 12, 16, 24):
            keys = [select_pooled(idx, dist, pool, t) for t in taus]
            para = np.array([meet_rate(k, P['para']) for k in keys])
            rand = np.array([meet_rate(k, P['random']) for k in keys])
            n = np.array([(k >= 0).sum(1).mean() for k in keys])
            print(f'anchors, pool {pool:2d}: paraphrase {np.interp(0.02, rand, para):.4f} at random 0.02 (boundary '
                  f'{np.interp(0.02, rand, taus):.4f}, {np.interp(0.02, rand, n):.2f} keys); random {np.interp(0.90, para, rand):.4f} at paraphrase 0.90', flush=True)
            for t in (0.085, 0.095):
                report(select_pooled(idx, dist, pool, t), f'anchors, pool {pool}, boundary {t}')
    if a.only in (None, 'hub') and a.reference_cache:
        # CSLS hub bias: beta x an anchor's mean similarity to its k nearest reference sentences.
        _, keep = np.unique(np.round(z, 4), axis=0, return_index=True)
        anchors = z[np.sort(keep)]
        R = np.frombuffer(open(a.reference_cache, 'rb').read()[64:], dtype=np.float32).reshape(-1, D).astype(np.float64)
        zr = normalise((R - mu) @ proj.T)

        def hub(ref, k):
            out = np.empty(len(anchors))
            for s in range(0, len(anchors), 2048):
                out[s:s + 2048] = -np.sort(-(anchors[s:s + 2048] @ ref.T), axis=1)[:, :k].mean(axis=1)
            return out

        for label, ref in ((f'{len(zr)} reference sentences', zr), ('the evaluation sentences themselves (oracle, not shippable)', Z)):
            for k, beta in ((10, 0.5), (10, 0.25), (50, 0.5)):
                tops = [top(Z, anchors, 8, beta * hub(ref, k))]
                for tau in (0.065, 0.075, 0.085):
                    report(select(tops, 8, 'boundary', tau), f'hub k={k} beta={beta} from {label[:22]}, boundary {tau}')


if __name__ == '__main__':
    main()
