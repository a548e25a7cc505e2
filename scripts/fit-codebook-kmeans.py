#!/usr/bin/env python3
"""Numeric step of scripts/fit-codebook.mjs (numpy, because the fit is ~100x faster with BLAS).

Reads N x D float32 embeddings, writes to --out-dir: mean.f32 (D), projection.f32 (P x D, top-P
principal axes of the centred corpus), book{b}.f32 (K x P), groups{b}.f32 (G x P), group_of{b}.i32 (K).
With --anchors there is one book and no k-means: its centroids are the corpus points themselves
(projected, normalised, exact duplicates to 4 decimals dropped), the finest partition the corpus
supports.
Deterministic for a given input on a given machine: numpy's seeded PCG64 for k-means++ and a
fixed number of Lloyd iterations.
"""
import argparse
import json
import os

import numpy as np


def normalise(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return x / n


def kmeans(x, k, iters, seed):
    """Spherical k-means: k-means++ seeding, then Lloyd steps on cosine; empty clusters keep their centroid."""
    rng = np.random.default_rng(seed)
    n = len(x)
    c = np.empty((k, x.shape[1]), np.float64)
    first = rng.integers(n)
    c[0] = x[first]
    d2 = np.maximum(2 - 2 * x @ c[0], 0)
    for j in range(1, k):
        total = d2.sum()
        i = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        c[j] = x[i]
        d2 = np.minimum(d2, np.maximum(2 - 2 * x @ x[i], 0))
    assign = np.zeros(n, np.int64)
    for _ in range(iters):
        assign = np.argmax(x @ c.T, axis=1)
        sums = np.zeros_like(c)
        np.add.at(sums, assign, x)
        counts = np.bincount(assign, minlength=k)
        live = counts > 0
        c[live] = normalise(sums[live])
    return c, np.argmax(x @ c.T, axis=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--embeddings', required=True)
    ap.add_argument('--dimension', type=int, default=512)
    ap.add_argument('--out-dir', required=True)
    ap.add_argument('--k', type=int, default=4096)
    ap.add_argument('--books', type=int, default=8)
    ap.add_argument('--reduced', type=int, default=128)
    ap.add_argument('--groups', type=int, default=64)
    ap.add_argument('--iters', type=int, default=12)
    ap.add_argument('--seed', type=int, default=20261126)
    ap.add_argument('--anchors', action='store_true')
    ap.add_argument('--reference-embeddings', help='N x dimension float32: sentences for the anchors\' hub bias')
    ap.add_argument('--hub-k', type=int, default=10)
    ap.add_argument('--hub-beta', type=float, default=0.5)
    a = ap.parse_args()

    x = np.fromfile(a.embeddings, dtype=np.float32).reshape(-1, a.dimension).astype(np.float64)
    mean = x.mean(axis=0)
    xc = x - mean
    # Principal axes of the centred corpus: keeps most of the variance in a quarter of the
    # dimensions, so centroids are 4x smaller to ship and 4x cheaper to score.
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    proj = vt[: a.reduced]
    z = normalise(xc @ proj.T)
    os.makedirs(a.out_dir, exist_ok=True)
    mean.astype(np.float32).tofile(os.path.join(a.out_dir, 'mean.f32'))
    proj.astype(np.float32).tofile(os.path.join(a.out_dir, 'projection.f32'))
    if a.anchors:
        # Near-identical questions ("Which of the following is true?") would be two cells with a
        # boundary through every query near them, spending keys on nothing.
        _, keep = np.unique(np.round(z, 4), axis=0, return_index=True)
        keep.sort()
        z[keep].astype(np.float32).tofile(os.path.join(a.out_dir, 'book0.f32'))
        keep.astype(np.int32).tofile(os.path.join(a.out_dir, 'anchors.i32'))
        if a.reference_embeddings:
            # CSLS: an anchor near many reference sentences is a hub for text of that kind; its
            # bias (beta x mean similarity to its hub_k nearest) shrinks its cell.
            r = np.fromfile(a.reference_embeddings, dtype=np.float32).reshape(-1, a.dimension).astype(np.float64)
            zr = normalise((r - mean) @ proj.T)
            anchors = z[keep]
            near = np.empty(len(anchors))
            for s in range(0, len(anchors), 2048):
                sims = anchors[s:s + 2048] @ zr.T
                near[s:s + 2048] = -np.sort(-sims, axis=1)[:, :a.hub_k].mean(axis=1)
            (a.hub_beta * near).astype(np.float32).tofile(os.path.join(a.out_dir, 'bias0.f32'))
            print(f'hub bias: {len(zr)} reference sentences, k {a.hub_k}, beta {a.hub_beta}; '
                  f'bias mean {a.hub_beta * near.mean():.4f}, range {a.hub_beta * near.min():.4f}..{a.hub_beta * near.max():.4f}', flush=True)
        print(f'anchors: {len(keep)} of {len(z)} corpus points (duplicates dropped)', flush=True)
        with open(os.path.join(a.out_dir, 'meta.json'), 'w') as f:
            json.dump({'n': len(x), 'anchors': int(len(keep)), 'reduced': a.reduced}, f)
        return
    sizes = []
    for b in range(a.books):
        c, assign = kmeans(z, a.k, a.iters, a.seed + b)
        c.astype(np.float32).tofile(os.path.join(a.out_dir, f'book{b}.f32'))
        sizes.append(np.bincount(assign, minlength=a.k).tolist())
        if a.groups > 0:
            g, gof = kmeans(c, a.groups, a.iters, a.seed + 1000 + b)
            g.astype(np.float32).tofile(os.path.join(a.out_dir, f'groups{b}.f32'))
            gof.astype(np.int32).tofile(os.path.join(a.out_dir, f'group_of{b}.i32'))
        print(f'book {b}: K={a.k}, {int(np.sum(np.array(sizes[-1]) == 0))} empty', flush=True)
    with open(os.path.join(a.out_dir, 'meta.json'), 'w') as f:
        json.dump({'n': len(x), 'k': a.k, 'books': a.books, 'reduced': a.reduced, 'groups': a.groups,
                   'iters': a.iters, 'seed': a.seed}, f)


if __name__ == '__main__':
    main()
