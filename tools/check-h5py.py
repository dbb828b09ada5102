#!/usr/bin/python3
"""Check that h5py reads a frost dataset file as written: /node/feat equals the
OGB raw CSV it was imported from, and the format attributes are there.

Usage: tools/check-h5py.py [DATASET.h5 RAW_DIR]   (default: the bundled cora)
Needs python3-h5py and python3-numpy (not dependencies of frost itself).
"""
import gzip
import os
import sys

import h5py
import numpy as np

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
h5 = sys.argv[1] if len(sys.argv) > 2 else os.path.join(root, "datasets", "cora.h5")
raw = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "datasets", "cora")
csv = os.path.join(raw, "raw", "node-feat.csv.gz")
if not os.path.exists(csv):
    csv = csv[:-3]
with h5py.File(h5, "r") as f:
    fmt, ver = f.attrs["format"], int(f.attrs["version"])
    x = f["node/feat"][:]
    n = int(f.attrs["num_nodes"])
with (gzip.open if csv.endswith(".gz") else open)(csv, "rt") as fh:
    ref = np.loadtxt(fh, delimiter=",", dtype=np.float32, ndmin=2)
ok = fmt in ("frost.dataset", b"frost.dataset") and ver == 1 and x.shape == ref.shape == (n, ref.shape[1])
ok = ok and np.array_equal(x, ref)
print(f"{h5}: format {fmt!r} v{ver}, /node/feat {x.shape} {'equals' if ok else 'DIFFERS FROM'} {csv}")
sys.exit(0 if ok else 1)
