"""frost.py - the Python companion of frost: datasets in and out, results out.

numpy and h5py only (Debian: python3-numpy, python3-h5py; run with
/usr/bin/python3). torch_geometric and pandas are used when present.

    import sys; sys.path.insert(0, "tools/python")
    import frost
    frost.write_dataset("mine.h5", x, edge_index, y, splits={"random": (train, valid, test)})
    d = frost.read_dataset("mine.h5")            # numpy arrays, decoded attributes
    data = frost.to_pyg("mine.h5", "random")     # a torch_geometric Data (when installed)
    runs = frost.read_results("results/mine.h5") # one dict per run, strings as str
    df = frost.results_frame("results/mine.h5")  # the same as a pandas DataFrame

The files are those of datasets/README.md and results/README.md. A dataset
written here is built as `frost import ogb` builds one from the same edge
list (rows sorted, repeated pairs dropped unless keep_duplicates, self-loops
kept, dropped or added, inverse edges added on request), so frost trains on
it to the same bits as on the imported CSV files.
"""
import os

import h5py
import numpy as np

DATASET_FORMAT = "frost.dataset"
RESULTS_FORMAT = "frost.results"
MODEL_FORMAT = "frost.model"
VERSION = 1
CREATED_BY = "frost.py (Python companion)"


class FrostFileError(ValueError):
    """A file or an array that is not what frost expects: the message names it."""


# ---- small pieces ---------------------------------------------------------------


def _text(value):
    """A fixed-length, NUL-terminated UTF-8 string attribute (what frost reads)."""
    b = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return np.array(b, dtype=h5py.string_dtype("utf-8", len(b) + 1))


def _decode(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def _attrs(obj):
    return {k: _decode(obj.attrs[k]) for k in obj.attrs.keys()}


def _array(group, name, data, dtype):
    """frost's layout: arrays over 64 KiB chunked by whole rows (about 1 MiB)
    with shuffle + deflate level 1, smaller ones contiguous; exactly frost's
    element type either way."""
    a = np.ascontiguousarray(data, dtype=dtype)
    if a.nbytes <= 65536 or a.shape[0] == 0:
        return group.create_dataset(name, data=a)
    row = a.nbytes // a.shape[0]
    rows = int(max(1, min(a.shape[0], (1 << 20) // max(row, 1))))
    return group.create_dataset(name, data=a, chunks=(rows,) + a.shape[1:], compression="gzip",
                                compression_opts=1, shuffle=True)


def _ids(what, v, n):
    """Node ids from an index array or a boolean mask of n nodes."""
    a = np.asarray(v)
    if a.dtype == bool:
        if a.shape != (n,):
            raise FrostFileError(f"{what}: a mask of {a.shape} entries, expected ({n},)")
        a = np.flatnonzero(a)
    a = a.astype(np.int64, copy=False).reshape(-1)
    if a.size and (a.min() < 0 or a.max() >= n):
        raise FrostFileError(f"{what}: node id {int(a.min() if a.min() < 0 else a.max())} out of range 0 .. {n - 1}")
    if np.unique(a).size != a.size:
        raise FrostFileError(f"{what}: node ids repeat")
    return a


def _csr(n, src, dst, add_inverse_edges, keep_duplicates, self_loops, weight):
    """CSR of the stored edges i -> j as frost_csr_from_edges builds it; the
    weights follow their entries (a reverse copy gets its edge's weight, an
    added self-loop 0; of repeated pairs the first in the input is kept)."""
    eid = np.arange(src.size, dtype=np.int64)
    if add_inverse_edges:
        src, dst, eid = np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate([eid, eid])
    if self_loops in ("drop", "add"):
        keep = src != dst
        src, dst, eid = src[keep], dst[keep], eid[keep]
    if self_loops == "add":
        loops = np.arange(n, dtype=np.int64)
        src, dst, eid = np.concatenate([src, loops]), np.concatenate([dst, loops]), np.concatenate(
            [eid, np.full(n, -1, np.int64)])
    order = np.lexsort((np.arange(src.size), dst, src))  # by row, then column, then input order
    src, dst, eid = src[order], dst[order], eid[order]
    if not keep_duplicates and src.size:
        first = np.ones(src.size, bool)
        first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        src, dst, eid = src[first], dst[first], eid[first]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    w = None
    if weight is not None:
        w = np.where(eid[:, None] >= 0, weight[np.maximum(eid, 0)], 0).astype(np.float32)
    return indptr, dst.astype(np.int32), w


# ---- datasets -------------------------------------------------------------------


def write_dataset(path, x, edge_index, y, splits=None, *, name=None, num_classes=None, task=None, metric=None,
                  edge_weight=None, year=None, add_inverse_edges=False, keep_duplicates=False, self_loops="keep",
                  overwrite=False):
    """Write a frost dataset file from numpy arrays.

    x           (N, F) node features (float32 on disk), or None for none
    edge_index  (2, E) source and target ids (PyG's layout: edge_index[0] -> edge_index[1])
    y           (N,) class ids, -1 unlabelled; or (N, T) 0/1 labels of T binary tasks
                (-1 or NaN unlabelled); None for data to predict on (every label -1:
                give num_classes, or the number of tasks with task="binary")
    splits      {name: (train, valid, test)} or {name: {"train": .., "valid": .., "test": ..}},
                each an index array or a boolean mask
    edge_weight (E,) or (E, Fe) per-edge values, stored as /graph/edge_feat
    task        "multiclass" (default for 1-D y) or "binary" (default for 2-D y)
    metric      "accuracy" (default for multiclass) or "rocauc" (default for binary)

    Written under PATH.tmp.PID and renamed when complete; an existing PATH
    is replaced only with overwrite=True.
    """
    if os.path.lexists(path) and not overwrite:
        raise FrostFileError(f"{path}: exists (overwrite=True replaces it)")
    ei = np.asarray(edge_index)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise FrostFileError(f"edge_index: shape {ei.shape}, expected (2, E)")
    unlabelled = y is None  # data to predict on: no /node/label, num_classes (or tasks) given
    if unlabelled:
        if x is None or num_classes is None:
            raise FrostFileError("y is None: give x (the nodes) and num_classes (or num_classes=T with task='binary')")
        shape = (np.asarray(x).shape[0],) if task != "binary" else (np.asarray(x).shape[0], int(num_classes))
        y = np.full(shape, -1, np.int64)
    y = np.asarray(y)
    n = int(y.shape[0])
    if n > 2**31 - 1:
        raise FrostFileError(f"y: {n} nodes, frost takes at most {2**31 - 1}")
    if ei.size and not np.issubdtype(ei.dtype, np.integer):
        if not np.all(np.isfinite(ei)) or np.any(ei != np.floor(ei)):
            raise FrostFileError("edge_index: node ids must be integers")
    if ei.size and (ei.min() < 0 or ei.max() >= n):
        raise FrostFileError(f"edge_index: node id out of range 0 .. {n - 1}")
    src, dst = ei[0].astype(np.int64), ei[1].astype(np.int64)
    if self_loops not in ("keep", "drop", "add"):
        raise FrostFileError(f"self_loops = {self_loops!r}, expected 'keep', 'drop' or 'add'")
    if x is not None:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != n:
            raise FrostFileError(f"x: shape {x.shape}, expected ({n}, F)")
        if not np.isfinite(x).all():
            raise FrostFileError("x: NaN or infinite features (frost run refuses them)")
    w = None
    if edge_weight is not None:
        w = np.asarray(edge_weight, dtype=np.float32)
        w = w.reshape(-1, 1) if w.ndim == 1 else w
        if w.shape[0] != src.size:
            raise FrostFileError(f"edge_weight: {w.shape[0]} rows, expected one per edge ({src.size})")
    task = task or ("binary" if y.ndim == 2 else "multiclass")
    if task not in ("multiclass", "binary"):
        raise FrostFileError(f"task = {task!r}, expected 'multiclass' or 'binary'")
    def whole(v, what):
        """Integer labels from any number type: NaN is -1 (unlabelled); fractions and
        values beyond int32 are refused, never cut."""
        v = np.asarray(v)
        if not np.issubdtype(v.dtype, np.integer):
            f = v.astype(np.float64)
            if np.any(np.isinf(f)) or np.any((f != np.floor(f)) & ~np.isnan(f)):
                raise FrostFileError(f"{what}: labels must be whole numbers (NaN or -1: unlabelled)")
            v = np.where(np.isnan(f), -1, f)
        if v.size and (v.min() < -1 or v.max() >= 2**31 - 1):
            raise FrostFileError(f"{what}: labels from {int(v.min())} to {int(v.max())}, expected -1 .. 2147483646")
        return v.astype(np.int64)

    if task == "multiclass":
        if y.ndim != 1:
            raise FrostFileError(f"y: shape {y.shape}, a multiclass task needs ({n},)")
        lab = whole(y, "y").astype(np.int32)
        hi = int(lab.max()) if lab.size else -1
        num_classes = int(num_classes if num_classes is not None else hi + 1)
        if num_classes < 1 or hi >= num_classes or (lab.size and lab.min() < -1):
            raise FrostFileError(f"y: class ids from {int(lab.min())} to {hi}, expected -1 .. {num_classes - 1}")
        if num_classes > 1 << 20:
            raise FrostFileError(f"y: {num_classes} classes, frost takes at most {1 << 20}")
        tasks = 1
    else:
        if unlabelled and y.ndim == 2 and y.shape[1] == 1:
            y = y.reshape(-1)
        yy = y.reshape(n, -1).astype(np.float64)
        if not np.all(np.isin(yy[~np.isnan(yy)], (-1.0, 0.0, 1.0))):
            raise FrostFileError("y: a binary task needs labels 0, 1 or -1 / NaN (unlabelled)")
        lab = np.where(np.isnan(yy), -1, yy).astype(np.int32)
        num_classes, tasks = 2, lab.shape[1]
        if tasks > 4096:
            raise FrostFileError(f"y: {tasks} binary tasks, frost takes at most 4096")
        lab = lab if tasks > 1 else lab.reshape(-1)
    metric = metric or ("rocauc" if task == "binary" else "accuracy")
    if metric not in ("accuracy", "rocauc"):
        raise FrostFileError(f"metric = {metric!r}, expected 'accuracy' or 'rocauc'")
    indptr, indices, ew = _csr(n, src, dst, add_inverse_edges, keep_duplicates, self_loops, w)
    if year is not None:
        year = np.asarray(year).reshape(-1)
        if year.shape[0] != n or (year.size and (year.min() < -2**31 or year.max() >= 2**31)):
            raise FrostFileError(f"year: expected {n} values in the int32 range")
    parts = {}
    for sname, sp in (splits or {}).items():
        if not isinstance(sname, str) or not sname or "/" in sname or len(sname.encode()) > 63:
            raise FrostFileError(f"split {sname!r}: a name of 1 to 63 bytes without '/'")
        tvt = [sp[k] for k in ("train", "valid", "test")] if isinstance(sp, dict) else list(sp)
        if len(tvt) != 3:
            raise FrostFileError(f"split {sname!r}: expected train, valid and test")
        ids = [_ids(f"split {sname!r} {k}", v, n) for k, v in zip(("train", "valid", "test"), tvt)]
        if np.unique(np.concatenate(ids)).size != sum(a.size for a in ids):
            raise FrostFileError(f"split {sname!r}: train, valid and test share nodes")
        parts[sname] = ids
    # symmetric: every stored (i, j) has (j, i)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    fwd = np.unique(rows * n + indices)
    symmetric = bool(np.array_equal(fwd, np.unique(indices.astype(np.int64) * n + rows)))
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = _text(DATASET_FORMAT)
            f.attrs["version"] = np.int64(VERSION)
            f.attrs["name"] = _text(name if name is not None else os.path.splitext(os.path.basename(path))[0])
            f.attrs["source"] = _text(
                f"frost.py write_dataset (add_inverse_edges={int(add_inverse_edges)}, dedup={int(not keep_duplicates)}, "
                f"self_loops={self_loops})")
            f.attrs["created_by"] = _text(CREATED_BY)
            for k, v in (("num_nodes", n), ("num_edges", indices.size), ("num_features", 0 if x is None else x.shape[1]),
                         ("num_classes", num_classes), ("num_tasks", tasks)):
                f.attrs[k] = np.int64(v)
            f.attrs["task_type"] = _text(task)
            f.attrs["metric"] = _text(metric)
            g = f.create_group("graph")
            _array(g, "indptr", indptr, np.int64)
            _array(g, "indices", indices, np.int32)
            if ew is not None:
                _array(g, "edge_feat", ew, np.float32)
            g.attrs["direction"] = _text("row i lists the targets j of the stored edges i -> j")
            g.attrs["symmetric"] = np.int64(symmetric)
            g.attrs["inverse_edges_added"] = np.int64(bool(add_inverse_edges))
            g.attrs["deduplicated"] = np.int64(not keep_duplicates)
            g.attrs["self_loops"] = _text(self_loops)
            g.attrs["num_self_loops"] = np.int64(np.count_nonzero(rows == indices))
            g.attrs["edge_list_edges"] = np.int64(src.size)
            nd = f.create_group("node")
            if x is not None:
                _array(nd, "feat", x, np.float32)
            _array(nd, "label", lab, np.int32)  # -1 everywhere when unlabelled (the files' contract has labels)
            if year is not None:
                _array(nd, "year", np.asarray(year).reshape(-1), np.int32)
            if parts:
                s = f.create_group("split")
                for sname, ids in parts.items():
                    sg = s.create_group(sname)
                    for k, a in zip(("train", "valid", "test"), ids):
                        _array(sg, k, a, np.int64)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _check_format(f, path, want):
    fmt = _decode(f.attrs.get("format", b""))
    if fmt != want:
        raise FrostFileError(f"{path}: attribute 'format' is {fmt!r}, expected {want!r}")


def read_dataset(path):
    """A frost dataset file as numpy arrays: x (or None), indptr, indices,
    edge_index (2, nnz: row 0 the source i of each stored i -> j), y,
    edge_feat, year, splits {name: {train, valid, test}}, attrs (str values)."""
    with h5py.File(path, "r") as f:
        _check_format(f, path, DATASET_FORMAT)
        indptr = f["graph/indptr"][:]
        indices = f["graph/indices"][:]
        d = {
            "attrs": _attrs(f),
            "graph_attrs": _attrs(f["graph"]),
            "x": f["node/feat"][:] if "node/feat" in f else None,
            "y": f["node/label"][:],
            "indptr": indptr,
            "indices": indices,
            "edge_index": np.stack([np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr)),
                                    indices.astype(np.int64)]),
            "edge_feat": f["graph/edge_feat"][:] if "graph/edge_feat" in f else None,
            "year": f["node/year"][:] if "node/year" in f else None,
            "splits": {},
        }
        if "split" in f:
            for name, g in f["split"].items():
                d["splits"][name] = {k: g[k][:] for k in ("train", "valid", "test")}
    return d


def to_pyg(path_or_dataset, split=None):
    """A torch_geometric.data.Data of a frost dataset (x, edge_index, y, and
    train/val/test masks of `split`, default the first). Needs torch_geometric."""
    try:
        import torch
        from torch_geometric.data import Data
    except ImportError as e:
        raise ImportError("frost.to_pyg needs torch and torch_geometric (pip install torch_geometric); "
                          "frost.read_dataset gives the same arrays as numpy") from e
    d = read_dataset(path_or_dataset) if isinstance(path_or_dataset, (str, os.PathLike)) else path_or_dataset
    n = d["y"].shape[0]
    data = Data(x=None if d["x"] is None else torch.from_numpy(d["x"]),
                edge_index=torch.from_numpy(d["edge_index"]), y=torch.from_numpy(d["y"].astype(np.int64)))
    if d["splits"]:
        sp = d["splits"][split] if split else next(iter(d["splits"].values()))
        for key, part in (("train_mask", "train"), ("val_mask", "valid"), ("test_mask", "test")):
            m = torch.zeros(n, dtype=torch.bool)
            m[torch.from_numpy(sp[part])] = True
            setattr(data, key, m)
    return data


# ---- results ----------------------------------------------------------------------


def _run(g, run_id):
    r = {"id": run_id}
    r.update(_attrs(g))
    if "history" in g:
        h = g["history"][:]
        r["history"] = {k: h[k] for k in h.dtype.names}
    return r


def read_results(path, history=True):
    """Every run of a frost results file as a dict (attributes with str values,
    the per-epoch history as numpy arrays under "history"), in append order.
    Runs still pending beside the file (PATH.pending/) are included; a run in
    both places is taken from the main file, as frost does."""
    runs = {}
    with h5py.File(path, "r") as f:
        _check_format(f, path, RESULTS_FORMAT)
        for run_id, g in f["runs"].items():
            runs[run_id] = _run(g, run_id)
    pending = path + ".pending"
    extra = []
    if os.path.isdir(pending):
        for name in sorted(os.listdir(pending)):
            p = os.path.join(pending, name)
            if not (name.endswith(".run.h5") or name.endswith(".batch.h5")) or not os.path.isfile(p):
                continue
            try:
                with h5py.File(p, "r") as f:
                    seq = int(_decode(f.attrs.get("pending_seq", 0)))
                    for run_id, g in f["runs"].items():
                        if run_id not in runs:
                            extra.append((seq, int(_decode(g.attrs.get("order", 0))), _run(g, run_id)))
            except FileNotFoundError:
                continue  # folded meanwhile: the main file has it on the next read
    out = sorted(runs.values(), key=lambda r: r.get("order", 0))
    out += [r for _, _, r in sorted(extra, key=lambda t: (t[0], t[1]))]
    if not history:
        for r in out:
            r.pop("history", None)
    return out


def results_frame(path):
    """read_results as a pandas DataFrame, one row per run (no history). Needs pandas."""
    try:
        import pandas as pd
    except ImportError as e:
        raise ImportError("frost.results_frame needs pandas (apt-get install python3-pandas); "
                          "frost.read_results gives the same rows as dicts") from e
    return pd.DataFrame(read_results(path, history=False))


# ---- models outside frost (frost export --dense) -------------------------------------


def read_dense(path):
    """A file of `frost export --dense`: {"attrs": {...}, "tensors": {name: array}}
    (tensors in forward order; a weight matrix is (fan_in, fan_out): y = x @ W)."""
    with h5py.File(path, "r") as f:
        _check_format(f, path, "frost.dense")
        attrs = _attrs(f)
        names = attrs["tensors"].split("\n") if attrs.get("tensors") else []
        return {"attrs": attrs, "tensors": {k: f[k][:] for k in names},
                "kinds": {k: _decode(f[k].attrs["kind"]) for k in names}}


def _aggregator(d, attrs):
    """The rows each node aggregates from, as frost builds them: the stored
    edges i -> j (made undirected when graph_undirected), self-loops dropped
    unless graph_self_loops is keep, repeats dropped; node j gathers from i."""
    n = d["y"].shape[0]
    src, dst = d["edge_index"]
    if attrs["graph_undirected"]:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    if attrs["graph_self_loops"] != "keep":
        keep = src != dst
        src, dst = src[keep], dst[keep]
    key = np.unique(dst.astype(np.int64) * n + src)
    return key // n, key % n  # (target row, source column)


def _spmm(rows, cols, vals, x, n):
    out = np.zeros((n, x.shape[1]))
    np.add.at(out, rows, vals[:, None] * x[cols])
    return out


def dense_forward(dense, dataset):
    """Eval-mode logits (N, C) of a dense export on a dataset (paths or the
    dicts of read_dense / read_dataset), in float64 numpy: mlp, gcn, sage and
    gin layers, batch norm, residuals, root weights, the skip head."""
    dn = read_dense(dense) if isinstance(dense, (str, os.PathLike)) else dense
    d = read_dataset(dataset) if isinstance(dataset, (str, os.PathLike)) else dataset
    a, t = dn["attrs"], dn["tensors"]
    n = d["y"].shape[0]
    x = np.zeros((n, 0)) if d["x"] is None else d["x"].astype(np.float64)
    if a["features_from_edges"] != "none":
        ef = d["edge_feat"].astype(np.float64)
        rows = d["edge_index"][0]
        cnt = np.bincount(rows, minlength=n).astype(np.float64)
        if a["features_from_edges"] == "max":
            red = np.full((n, ef.shape[1]), -np.inf)
            np.maximum.at(red, rows, ef)
            red[cnt == 0] = 0
        else:
            red = np.zeros((n, ef.shape[1]))
            np.add.at(red, rows, ef)
            if a["features_from_edges"] == "mean":
                red /= np.maximum(cnt, 1)[:, None]
        x = np.concatenate([x, red], axis=1)
    if a["features_normalize"] == "row":
        s = x.sum(axis=1, keepdims=True)
        x = np.where(s != 0, x / np.where(s != 0, s, 1), x)
    if x.shape[1] != int(a["in_dim"]):
        raise FrostFileError(f"the model takes {a['in_dim']} features; the dataset gives {x.shape[1]}")
    classes = d["attrs"]["num_tasks"] if d["attrs"]["task_type"] == "binary" else d["attrs"]["num_classes"]
    if int(classes) != int(a["out_dim"]):
        raise FrostFileError(f"the model predicts {a['out_dim']} outputs; the dataset has {classes}")
    r, c = _aggregator(d, a)
    deg = np.bincount(r, minlength=n).astype(np.float64)
    eps = float(a["bn_eps"])

    def post(z, l):
        g = t.get(f"layer{l}.norm.running_mean")
        if g is not None:
            z = (z - g) / np.sqrt(t[f"layer{l}.norm.running_var"].astype(np.float64) + eps)
            if f"layer{l}.norm.weight" in t:
                z = z * t[f"layer{l}.norm.weight"] + t[f"layer{l}.norm.bias"]
        return np.maximum(z, 0)

    layers = sorted({int(k.split(".")[0][5:]) for k in t if k.startswith("layer")})
    h = x
    for l in layers:
        kind = dn["kinds"][f"layer{l}.weight" if f"layer{l}.weight" in t else f"layer{l}.weight_neigh"]
        last = l == layers[-1]
        W = lambda name: t[f"layer{l}.{name}"].astype(np.float64)  # noqa: E731
        if last and a["skip_head"]:
            head = h @ t["head.weight"] + (t["head.bias"] if "head.bias" in t else 0)
        if kind == "mlp":
            z = h @ W("weight")
        elif kind == "gcn":
            if a["gcn_norm"] != "both":
                raise NotImplementedError(f"gcn_norm {a['gcn_norm']}")
            dinv = 1 / np.sqrt(deg + 1)
            hw = h @ W("weight")
            z = _spmm(r, c, dinv[r] * dinv[c], hw, n) + dinv[:, None] ** 2 * hw
        elif kind == "sage":
            mean = _spmm(r, c, 1 / deg[r], h, n)
            z = mean @ W("weight_neigh") + h @ W("weight_root")
        elif kind == "gin":
            z = (float(a["gin_eps"]) + 1) * h + _spmm(r, c, 1 / deg[r], h, n)
            z = z @ W("weight")
        else:
            raise NotImplementedError(f"dense_forward: layer kind {kind}")
        if f"layer{l}.bias" in t:
            z = z + W("bias")
        if f"layer{l}.weight_root" in t and kind != "sage":
            z = z + h @ W("weight_root")
        post_here = (not last) or a["norm_last"]
        out = post(z, l) if post_here else z
        if a["residual"] and l > 0 and not last and out.shape == h.shape:
            out = out + h
        h = out
    return (head + h) / 2 if a["skip_head"] else h
