#!/usr/bin/python3
"""Rewrite the variable-length string attributes of a frost file (dataset,
results or model file written by a frost of before 2026-11-27) as fixed-length
UTF-8 strings, which is what frost reads since then (HDF5 1.10 reads
variable-length strings of a damaged file unsafely). Numbers and arrays are
left as they are. The file is changed in place through a copy: FILE.tmp is
written first and renamed over FILE when complete.

Usage: tools/upgrade-h5-strings.py FILE.h5 [FILE.h5 ...]
Needs python3-h5py (Debian), run with /usr/bin/python3.
"""
import os
import shutil
import sys

import h5py
import numpy as np


def fixed(value):
    b = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return np.array(b, dtype=h5py.string_dtype("utf-8", len(b) + 1))


def upgrade(path):
    tmp = path + ".tmp"
    shutil.copyfile(path, tmp)
    n = 0
    with h5py.File(tmp, "r+") as f:
        objs = [f]
        f.visititems(lambda name, obj: objs.append(obj))
        for obj in objs:
            for key in list(obj.attrs.keys()):
                info = h5py.check_string_dtype(obj.attrs.get_id(key).dtype)
                if info is not None and info.length is None:
                    value = obj.attrs[key]
                    del obj.attrs[key]
                    obj.attrs[key] = fixed(value)
                    n += 1
    os.replace(tmp, path)
    print(f"{path}: {n} attribute(s) rewritten")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    for p in sys.argv[1:]:
        upgrade(p)
