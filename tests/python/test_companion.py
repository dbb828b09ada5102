#!/usr/bin/python3
"""tools/python/frost.py against the frost program (meson test 'python').

A random graph (repeated edges, self-loops, an isolated node) is written two
ways: as OGB CSV files imported with `frost import ogb`, and from numpy with
frost.write_dataset. Both files must hold the same arrays, and `frost run`
must train both to the same bits (logits hash, metrics). Then read_results
must return what `frost report --json` says, with str attributes, and
write_dataset's errors must name what is wrong. Exit 77 (skipped) with the
reason when numpy or h5py is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import h5py  # noqa: F401
    import numpy as np
except ImportError as e:
    print(f"skipped: {e} (apt-get install python3-h5py python3-numpy; tools/test installs them)")
    sys.exit(77)

ROOT = os.environ.get("FROST_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import frost  # noqa: E402

FROST = os.environ.get("FROST_BIN", os.path.join(ROOT, "build", "frost"))
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(*args, cwd=None):
    p = subprocess.run([FROST, *args], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"frost {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def graph(rng, n=300, e=1500, f=12, c=4):
    src = rng.integers(0, n - 1, e)  # node n-1 has no edges
    dst = rng.integers(0, n - 1, e)
    src[:20], dst[:20] = src[20:40], dst[20:40]  # repeated pairs
    src[40:45] = dst[40:45]  # self-loops
    x = (rng.integers(-64, 64, (n, f)) / 32.0).astype(np.float32)  # exact in decimal and float32
    y = rng.integers(0, c, n)
    y[5] = -1
    perm = rng.permutation(n)
    return x, np.stack([src, dst]), y, (perm[:120], perm[120:180], perm[180:])


def write_ogb(d, x, ei, y, split):
    os.makedirs(os.path.join(d, "raw"))
    raw = lambda name: os.path.join(d, "raw", name)  # noqa: E731
    with open(raw("num-node-list.csv"), "w") as fh:
        fh.write(f"{y.shape[0]}\n")
    with open(raw("num-edge-list.csv"), "w") as fh:
        fh.write(f"{ei.shape[1]}\n")
    np.savetxt(raw("edge.csv"), ei.T, fmt="%d", delimiter=",")
    np.savetxt(raw("node-feat.csv"), x, fmt="%.6f", delimiter=",")
    with open(raw("node-label.csv"), "w") as fh:
        fh.writelines(("" if v < 0 else str(v)) + "\n" for v in y)
    os.makedirs(os.path.join(d, "split", "random"))
    for name, ids in zip(("train", "valid", "test"), split):
        np.savetxt(os.path.join(d, "split", "random", name + ".csv"), ids, fmt="%d")


def main():
    rng = np.random.default_rng(7)
    x, ei, y, split = graph(rng)
    t = tempfile.mkdtemp(prefix="frost-py-")
    try:
        write_ogb(os.path.join(t, "ogb"), x, ei, y, split)
        a, b = os.path.join(t, "a.h5"), os.path.join(t, "b b.h5")
        run("import", "ogb", os.path.join(t, "ogb"), a, "--quiet", "--num-classes", "4")
        frost.write_dataset(b, x, ei, y, splits={"random": split}, name="ogb", num_classes=4)
        da, db = frost.read_dataset(a), frost.read_dataset(b)
        for k in ("indptr", "indices", "x", "y", "edge_index"):
            check(np.array_equal(da[k], db[k]) and da[k].dtype == db[k].dtype, f"dataset array {k} as frost imports it")
        for k in ("train", "valid", "test"):
            check(np.array_equal(da["splits"]["random"][k], db["splits"]["random"][k]), f"split random/{k}")
        for k in ("symmetric", "num_self_loops", "deduplicated", "edge_list_edges"):
            check(da["graph_attrs"][k] == db["graph_attrs"][k], f"graph attribute {k}: {db['graph_attrs'][k]}")
        check(isinstance(db["attrs"]["task_type"], str), "attributes come back as str")
        info = json.loads(run("info", b, "--json"))
        check(info["nodes"] == 300 and info["classes"] == 4 and info["labelled"] == 299, "frost info reads it")

        # both train to the same bits
        cfg = os.path.join(t, "e.cfg")
        with open(cfg, "w") as fh:
            fh.write('split = "random";\nmethod = ["trained", "slt"];\nepochs = 15;\nruns = 2;\n'
                     'model = { name = "gcn"; hidden = 16; };\nslt = { freeze = [0.2]; sparsity = [0.5]; };\n')
        hashes = []
        for ds, out in ((a, "ra.h5"), (b, "rb.h5")):
            ds_set = 'dataset="' + ds.replace("\\", "\\\\").replace('"', '\\"') + '"'
            run("run", cfg, "--quiet", "--set", ds_set, "--set", f'output="{out}"', "--set", "threads=1", cwd=t)
            runs = frost.read_results(os.path.join(t, out))
            hashes.append({r["id"]: (r["logits_hash"], r["test_metric"], r["best_epoch"]) for r in runs})
        check(len(hashes[0]) == 4 and hashes[0] == hashes[1],
              f"frost run: the same logits hash and metrics on both files ({len(hashes[0])} runs)")

        # dense exports: numpy logits from the named tensors equal frost's
        with open(os.path.join(t, "m.cfg"), "w") as fh:
            fh.write('split = "random";\nmethod = ["trained", "slt"];\nepochs = 12;\nruns = 1;\n'
                     'features = { normalize = "row"; };\n'
                     'model = { name = ["gcn", "gin", "sage"]; hidden = 16; layers = 3; norm = "batch"; bias = true; };\n'
                     'slt = { freeze = [0.2]; sparsity = [0.5]; };\n')
        ds_set = 'dataset="' + b.replace("\\", "\\\\").replace('"', '\\"') + '"'
        run("run", "m.cfg", "--quiet", "--set", ds_set, "--set", 'output="rm.h5"', "--set", "threads=1", cwd=t)
        worst = 0.0
        ids = [r["id"] for r in frost.read_results(os.path.join(t, "rm.h5"))]
        for rid in ids:
            mfile, dfile, pfile = (os.path.join(t, f"{rid}.{s}.h5") for s in ("model", "dense", "pred"))
            run("export", os.path.join(t, "rm.h5"), rid, "-o", mfile)
            run("export", mfile, "--dense", "-o", dfile)
            run("predict", mfile, b, "-o", pfile)
            with h5py.File(pfile, "r") as f:
                want = f["logits"][:].astype(np.float64)
            got = frost.dense_forward(dfile, db)
            err = float(np.abs(got - want).max() / max(1e-6, np.abs(want).max()))
            worst = max(worst, err)
            check(err < 1e-4, f"dense export of {rid}: numpy logits within {err:.2e} (relative to the largest)")
        check(len(ids) == 6, f"gcn, gin and sage, trained and ticket ({len(ids)} runs)")
        # straight from the results file: the same tensors, and no file in between
        rid = "slt-gin-f0.2-s0.5-seed0"
        run("export", os.path.join(t, "rm.h5"), rid, "--dense", "-o", os.path.join(t, "direct.h5"))
        a_, b_ = frost.read_dense(os.path.join(t, "direct.h5")), frost.read_dense(os.path.join(t, f"{rid}.dense.h5"))
        check(a_["tensors"].keys() == b_["tensors"].keys() and
              all(np.array_equal(a_["tensors"][k], b_["tensors"][k]) for k in a_["tensors"]) and
              not [f for f in os.listdir(t) if ".tmp." in f], "export RESULTS RUN --dense: the same tensors, no temporary")
        out = run("info", os.path.join(t, "slt-gcn-f0.2-s0.5-seed0.dense.h5"))
        check("layer0.weight" in out and "12 x 16" in out, "frost info on a dense export")
        out = run("info", os.path.join(t, "slt-gcn-f0.2-s0.5-seed0.pred.h5"))
        check("probability" in out and "300 x 4" in out, "frost info on a predictions file")
        dn = frost.read_dense(os.path.join(t, "slt-gcn-f0.2-s0.5-seed0.dense.h5"))
        check(dn["tensors"]["layer0.weight"].shape == (12, 16) and dn["attrs"]["method"] == "slt",
              "weight shapes (fan_in, fan_out)")

        # predictions on data without labels or splits: ids, probabilities, classes
        u = os.path.join(t, "unlabelled.h5")
        frost.write_dataset(u, x, ei, None, num_classes=4)
        mfile = os.path.join(t, "trained-gcn-seed0.model.h5")
        out = run("predict", mfile, u, "-o", os.path.join(t, "pu.h5"))
        check("no split to score" in out and "300 nodes predicted" in out, f"frost predict on unlabelled data: {out.strip()}")
        run("predict", mfile, b, "-o", os.path.join(t, "pl.h5"))
        with h5py.File(os.path.join(t, "pu.h5"), "r") as f, h5py.File(os.path.join(t, "pl.h5"), "r") as g:
            pu = {k: f[k][:] for k in ("node_id", "logits", "probability", "prediction")}
            check(np.array_equal(pu["logits"], g["logits"][:]), "the same logits as on the labelled copy")
        check(np.array_equal(pu["node_id"], np.arange(300)), "node ids")
        check(np.allclose(pu["probability"].sum(axis=1), 1, atol=1e-5) and
              np.array_equal(pu["prediction"], pu["logits"].argmax(axis=1)), "softmax probabilities and argmax classes")
        with open(os.path.join(t, "nodes.txt"), "w") as fh:
            fh.write("# some nodes\n7\n3\n\n299\n")
        run("predict", mfile, u, "--nodes", "nodes.txt", "-o", "pn.h5", cwd=t)
        with h5py.File(os.path.join(t, "pn.h5"), "r") as f:
            check(np.array_equal(f["node_id"][:], [7, 3, 299]) and
                  np.array_equal(f["logits"][:], pu["logits"][[7, 3, 299]]), "--nodes: those rows, in that order")
        with open(os.path.join(t, "bad.txt"), "w") as fh:
            fh.write("1\n2\nx3\n")
        p = subprocess.run([FROST, "predict", mfile, u, "--nodes", "bad.txt", "-o", "pb.h5"], cwd=t,
                           capture_output=True, text=True)
        check(p.returncode == 1 and "bad.txt, line 3" in p.stderr and p.stderr.count("\n") == 1
              and not os.path.exists(os.path.join(t, "pb.h5")), f"a bad node list: {p.stderr.strip()}")
        with open(os.path.join(t, "esc.txt"), "w") as fh:
            fh.write("1\x1b]0;TITLE\x07\n")
        p = subprocess.run([FROST, "predict", mfile, u, "--nodes", "esc.txt", "-o", "pb.h5"], cwd=t,
                           capture_output=True, text=True)
        check(p.returncode == 1 and "\x1b" not in p.stderr and "\\x1b" in p.stderr, f"control bytes escaped: {p.stderr.strip()}")
        with open(os.path.join(t, "far.txt"), "w") as fh:
            fh.write("300\n")
        p = subprocess.run([FROST, "predict", mfile, u, "--nodes", "far.txt", "-o", "pb.h5"], cwd=t,
                           capture_output=True, text=True)
        check(p.returncode == 1 and "out of range 0 .. 299" in p.stderr, f"a node out of range: {p.stderr.strip()}")

        # frost import edgelist: a folder of text and .npy files, no count files
        el = os.path.join(t, "my graph")
        os.makedirs(os.path.join(el, "split", "random"))
        with open(os.path.join(el, "edges.csv"), "w") as fh:
            fh.write("# src, dst\n" + "".join(f"{a_}, {b_}\n" for a_, b_ in ei.T))
        np.savetxt(os.path.join(el, "features.txt"), x, fmt="%.6f", delimiter=" ")
        with open(os.path.join(el, "labels.txt"), "w") as fh:
            fh.writelines(("" if v < 0 else str(v)) + "\n" for v in y)
        for name, ids in zip(("train", "valid", "test"), split):
            np.save(os.path.join(el, "split", "random", name + ".npy"), ids.astype(">i4"))  # big-endian int32
        run("import", "edgelist", el, os.path.join(t, "el.h5"), "--quiet", "--num-classes", "4")
        de = frost.read_dataset(os.path.join(t, "el.h5"))
        check(all(np.array_equal(de[k], db[k]) for k in ("indptr", "indices", "x", "y")) and
              all(np.array_equal(de["splits"]["random"][k], db["splits"]["random"][k]) for k in ("train", "valid", "test")),
              "an edge-list folder imports to the same arrays as write_dataset")
        run("run", cfg, "--quiet", "--set", 'dataset="el.h5"', "--set", 'output="rel.h5"', "--set", "threads=1", cwd=t)
        rel = {r["id"]: (r["logits_hash"], r["test_metric"]) for r in frost.read_results(os.path.join(t, "rel.h5"))}
        check(rel == {k: v[:2] for k, v in hashes[1].items()}, "and trains to the same logits hashes")
        # .npy arrays of other types: float64 features, (E, 2) edges
        np.save(os.path.join(t, "e2.npy"), ei.T.astype(np.int32))
        np.save(os.path.join(t, "x64.npy"), x.astype(np.float64))
        np.save(os.path.join(t, "y.npy"), y)
        run("import", "edgelist", os.path.join(t, "e2.npy"), os.path.join(t, "el2.h5"), "--quiet", "--features",
            os.path.join(t, "x64.npy"), "--labels", os.path.join(t, "y.npy"), "--num-classes", "4")
        d2 = frost.read_dataset(os.path.join(t, "el2.h5"))
        check(all(np.array_equal(d2[k], db[k]) for k in ("indptr", "indices", "x", "y")), ".npy edges (E, 2), float64 features")
        np.save(os.path.join(t, "xf.npy"), np.asfortranarray(x))
        p = subprocess.run([FROST, "import", "edgelist", os.path.join(t, "e2.npy"), os.path.join(t, "bad.h5"),
                            "--features", os.path.join(t, "xf.npy"), "--num-classes", "4"], capture_output=True, text=True)
        check(p.returncode == 1 and "Fortran order" in p.stderr and p.stderr.count("\n") == 1, f"refused: {p.stderr.strip()}")
        with open(os.path.join(t, "badedges.txt"), "w") as fh:
            fh.write("0 1\n2 x\n")
        p = subprocess.run([FROST, "import", "edgelist", os.path.join(t, "badedges.txt"), os.path.join(t, "bad.h5"),
                            "--num-classes", "2"], capture_output=True, text=True)
        check(p.returncode == 1 and "badedges.txt:2:" in p.stderr and not os.path.exists(os.path.join(t, "bad.h5")),
              f"refused: {p.stderr.strip()}")

        # headers that lie, labels beyond frost's range, bad split names: one line, no file
        def lying_npy(path, shape):
            hdr = "{'descr': '<i8', 'fortran_order': False, 'shape': %s, }" % (shape,)
            hdr += " " * (63 - (len(hdr) + 10) % 64) + "\n"
            with open(path, "wb") as fh:
                fh.write(b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode())
                fh.write(np.arange(200, dtype="<i8").tobytes())
        lying_npy(os.path.join(t, "lie1.npy"), (2, 2**60))
        lying_npy(os.path.join(t, "lie2.npy"), (2, 1000))
        with open(os.path.join(t, "l2m.txt"), "w") as fh:
            fh.write("".join("2000000\n" if i == 0 else "0\n" for i in range(300)))
        for args, want in (((os.path.join(t, "lie1.npy"), "--num-classes", "2"), "impossible shape"),
                           ((os.path.join(t, "lie2.npy"), "--num-classes", "2"), "but 1600 bytes follow it"),
                           ((os.path.join(t, "e2.npy"), "--num-nodes", "300", "--labels", os.path.join(t, "l2m.txt")), "at most 1048576 classes"),
                           ((el, "--split", "a/b=x,y,z"), "without '/'")):
            p = subprocess.run([FROST, "import", "edgelist", *args, os.path.join(t, "bad.h5")], capture_output=True,
                               text=True)
            check(p.returncode in (1, 2) and want in p.stderr and p.stderr.count("\n") == 1 and
                  not os.path.exists(os.path.join(t, "bad.h5")), f"refused: {p.stderr.strip()}")
        for kw, want in ((dict(y=y.astype(float) + 0.5), "whole numbers"), (dict(y=y, year=np.zeros(3)), "year"),
                         (dict(y=y, splits={"a/b": split}), "without '/'")):
            try:
                frost.write_dataset(os.path.join(t, "bad.h5"), x, ei, **kw)
                check(False, f"write_dataset refuses: {want}")
            except frost.FrostFileError as e:
                check(want in str(e), f"write_dataset refuses: {e}")

        # OGB's npz layout (ogbn-papers100M-shaped, small), compressed and stored archives
        for saver, tag in ((np.savez_compressed, "compressed"), (np.savez, "stored")):
            pd_ = os.path.join(t, tag, "ogbn_papers100M")
            os.makedirs(os.path.join(pd_, "raw"))
            os.makedirs(os.path.join(pd_, "split", "time"))
            saver(os.path.join(pd_, "raw", "data.npz"), edge_index=ei.astype(np.int64), node_feat=x,
                  num_nodes_list=np.array([x.shape[0]]), num_edges_list=np.array([ei.shape[1]]),
                  node_year=np.full((x.shape[0], 1), 2020))
            lab = np.where(y < 0, np.nan, y).astype(np.float32).reshape(-1, 1)
            saver(os.path.join(pd_, "raw", "node-label.npz"), node_label=lab)
            for name, ids in zip(("train", "valid", "test"), split):
                np.savetxt(os.path.join(pd_, "split", "time", name + ".csv"), ids, fmt="%d")
            p = subprocess.run([FROST, "import", "ogb", pd_, os.path.join(t, f"p-{tag}.h5"), "--quiet"],
                               capture_output=True, text=True)
            check(p.returncode == 0 and "ogbn-papers100M (OGB's settings): edges as given, 172 classes" in p.stderr,
                  f"npz layout ({tag}) imports without flags: {p.stderr.strip()}")
            dp = frost.read_dataset(os.path.join(t, f"p-{tag}.h5"))
            check(all(np.array_equal(dp[k], db[k]) for k in ("indptr", "indices", "x", "y")) and
                  dp["attrs"]["num_classes"] == 172 and
                  np.array_equal(dp["splits"]["time"]["train"], db["splits"]["random"]["train"]),
                  f"npz layout ({tag}): the same arrays, OGB's 172 classes")
        run("run", cfg, "--quiet", "--set", 'dataset="p-compressed.h5"', "--set", 'split="time"', "--set",
            'output="rp.h5"', "--set", "threads=1", "--set", 'method="trained"', "--set", "runs=1", cwd=t)
        check(len(frost.read_results(os.path.join(t, "rp.h5"))) == 1, "the npz import trains")

        # what h5py writes by default: unchunked arrays of other number types are
        # converted; chunked ones and variable-length strings are named exactly
        h = os.path.join(t, "h5py.h5")
        shutil.copy(b, h)
        with h5py.File(h, "r+") as f:
            lab_ = f["node/label"][:]
            del f["node/label"]
            f["node/label"] = lab_.astype(np.int64)  # unchunked int64
        info = subprocess.run([FROST, "info", h, "--json"], capture_output=True, text=True)
        check(info.returncode == 0 and json.loads(info.stdout)["labelled"] == 299, "unchunked int64 labels are converted")
        with h5py.File(h, "r+") as f:
            del f["node/label"]
            f.create_dataset("node/label", data=lab_.astype(np.int64), chunks=(64,), compression="gzip")
        p = subprocess.run([FROST, "info", h], capture_output=True, text=True)
        check(p.returncode == 1 and "stored as int64" in p.stderr and "dtype='i4'" in p.stderr,
              f"chunked int64 named: {p.stderr.strip()}")
        shutil.copy(b, h)
        with h5py.File(h, "r+") as f:
            f.attrs["name"] = "a str"  # h5py: variable-length
        p = subprocess.run([FROST, "info", h], capture_output=True, text=True)
        check(p.returncode == 1 and "variable-length string" in p.stderr and "np.bytes_" in p.stderr,
              f"a variable-length string named: {p.stderr.strip()}")

        # read_results against frost report --json
        runs = frost.read_results(os.path.join(t, "ra.h5"))
        rep = json.loads(run("report", os.path.join(t, "ra.h5"), "--json"))
        best = {row["best_run"] for row in rep["rows"]}
        check(best <= {r["id"] for r in runs}, "every best run of the report is a run read")
        trained = [r for r in runs if r["method"] == "trained"]
        mean = float(np.mean([r["test_metric"] for r in trained]))
        row = [w for w in rep["rows"] if w["method"] == "trained"][0]
        check(abs(mean - row["test_mean"]) < 1e-6, f"trained test mean {mean:.6f} as frost reports it")
        check(all(isinstance(r["status"], str) and r["history"]["loss"].shape == (15,) for r in runs),
              "str attributes and the per-epoch history")

        # errors name what is wrong, and nothing is left behind
        bad = [
            (dict(x=x, edge_index=ei[:1], y=y), "edge_index: shape"),
            (dict(x=x, edge_index=ei + 1000, y=y), "out of range"),
            (dict(x=x[:10], edge_index=ei, y=y), "x: shape"),
            (dict(x=x, edge_index=ei, y=y, splits={"s": (split[0], split[0], split[2])}), "share nodes"),
            (dict(x=np.full_like(x, np.nan), edge_index=ei, y=y), "NaN"),
        ]
        for kw, want in bad:
            try:
                frost.write_dataset(os.path.join(t, "bad.h5"), **kw)
                check(False, f"refused: {want}")
            except frost.FrostFileError as e:
                check(want in str(e) and not os.path.exists(os.path.join(t, "bad.h5")), f"refused: {e}")
        try:
            frost.write_dataset(b, x, ei, y)
            check(False, "an existing file is not replaced")
        except frost.FrostFileError as e:
            check("exists" in str(e), f"an existing file is not replaced: {e}")
        check(not [f for f in os.listdir(t) if ".tmp." in f], "no temporary left")

        # boolean masks, binary multi-task labels with NaN, edge weights
        n = y.shape[0]
        masks = [np.isin(np.arange(n), s) for s in split]
        yt = rng.integers(0, 2, (n, 3)).astype(float)
        yt[3, 1] = np.nan
        c = os.path.join(t, "c.h5")
        frost.write_dataset(c, x, ei, yt, splits={"random": masks}, edge_weight=np.arange(ei.shape[1]),
                            add_inverse_edges=True)
        dc = frost.read_dataset(c)
        check(dc["attrs"]["task_type"] == "binary" and dc["attrs"]["metric"] == "rocauc" and dc["y"][3, 1] == -1,
              "binary tasks with a missing label")
        check(np.array_equal(np.sort(dc["splits"]["random"]["train"]), np.sort(split[0])), "a mask becomes ids")
        ew = dc["edge_feat"][:, 0]
        src, dst = dc["edge_index"]
        orig = {}
        for k in range(ei.shape[1]):  # of repeated entries the first: every given edge, then every reverse copy
            orig.setdefault((ei[0, k], ei[1, k]), k)
        for k in range(ei.shape[1]):
            orig.setdefault((ei[1, k], ei[0, k]), k)
        check(all(ew[k] == orig[(src[k], dst[k])] for k in range(0, src.size, 7)),
              "edge weights follow their entries")
        check(dc["graph_attrs"]["symmetric"] == 1, "inverse edges make it symmetric")
        out = run("info", c, "--json")
        check(json.loads(out)["tasks"] == 3, "frost reads the binary file")
        run("run", cfg, "--quiet", "--set", 'dataset="c.h5"', "--set", 'output="rc.h5"', "--set", 'method="trained"',
            "--set", "runs=1", cwd=t)
        run("export", "rc.h5", "trained-gcn-seed0", "-o", "mc.h5", cwd=t)
        uc = os.path.join(t, "uc.h5")
        frost.write_dataset(uc, x, ei, None, num_classes=3, task="binary", add_inverse_edges=True)
        out = run("predict", "mc.h5", "uc.h5", "-o", "pc.h5", cwd=t)
        with h5py.File(os.path.join(t, "pc.h5"), "r") as f:
            lg, pr, pd = f["logits"][:], f["probability"][:], f["prediction"][:]
        check(lg.shape == pr.shape == pd.shape == (300, 3) and np.allclose(pr, 1 / (1 + np.exp(-lg)), atol=1e-6)
              and np.array_equal(pd, (lg > 0).astype(pd.dtype)), "binary tasks: per-task sigmoid and 0/1")
    finally:
        shutil.rmtree(t, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
