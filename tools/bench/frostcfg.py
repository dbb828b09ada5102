"""Read the libconfig text frost writes and reads (experiment files, and the
effective configuration `frost run CFG --dry-run` prints), for the benchmark
scripts: the PyTorch training reference (torch_ref.py --config) and the
parity check (parity.py) take their recipes from it.

The subset libconfig 1.5 accepts and frost uses: `name = value;` (or `:`),
groups `{ ... }`, arrays `[ ... ]` and lists `( ... )`, strings (adjacent
literals are joined), integers (decimal, hex, an L suffix), floats, booleans;
comments `#`, `//` and `/* */`.

    cfg = frostcfg.loads(text)        # nested dicts, lists, str, int, float, bool
    frostcfg.get(cfg, "model.hidden") # dotted names; KeyError when absent
"""
import os
import re

_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+L{0,2}
                  |(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?L{0,2}))
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}\[\]()])
""", re.VERBOSE | re.DOTALL)


class ConfigError(ValueError):
    pass


def _tokens(text):
    pos = 0
    out = []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise ConfigError(f"line {line}: cannot read {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(kind), text.count("\n", 0, pos) + 1))
        pos = m.end()
    out.append(("end", "", text.count("\n") + 1))
    return out


def _unescape(s):
    body = s[1:-1]
    esc = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "\\": "\\", '"': '"'}
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n == "x" and i + 3 < len(body):
                out.append(chr(int(body[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append(esc.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text):
        self.t = _tokens(text)
        self.i = 0

    def peek(self):
        return self.t[self.i]

    def take(self, kind=None, value=None):
        tok = self.t[self.i]
        if (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            want = value or kind
            raise ConfigError(f"line {tok[2]}: expected {want!r}, found {tok[1] or 'the end'!r}")
        self.i += 1
        return tok

    def settings(self, closing):
        out = {}
        while not (self.peek()[0] == closing[0] and (closing[0] == "end" or self.peek()[1] == closing[1])):
            name = self.take("name")[1]
            tok = self.peek()
            if tok[1] not in ("=", ":"):
                raise ConfigError(f"line {tok[2]}: expected '=' after {name!r}")
            self.i += 1
            out[name] = self.value()
            if self.peek()[1] in (";", ","):
                self.i += 1
        return out

    def value(self):
        kind, v, line = self.peek()
        if kind == "str":
            parts = []
            while self.peek()[0] == "str":
                parts.append(_unescape(self.take()[1]))
            return "".join(parts)
        if kind == "num":
            self.i += 1
            v = v.rstrip("L")
            if v.lower().startswith(("0x", "-0x", "+0x")):
                return int(v, 16)
            if re.fullmatch(r"[-+]?\d+", v):
                return int(v)
            return float(v)
        if kind == "name" and v.lower() in ("true", "false"):
            self.i += 1
            return v.lower() == "true"
        if v == "{":
            self.i += 1
            g = self.settings(("punct", "}"))
            self.take("punct", "}")
            return g
        if v in ("[", "("):
            close = "]" if v == "[" else ")"
            self.i += 1
            items = []
            while self.peek()[1] != close:
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.i += 1
            self.take("punct", close)
            return items
        raise ConfigError(f"line {line}: expected a value, found {v or 'the end'!r}")


def loads(text):
    """Parse libconfig text into nested dicts."""
    p = _Parser(text)
    out = p.settings(("end", ""))
    p.take("end")
    return out


def load(path):
    with open(path) as f:
        return loads(f.read())


_MISSING = object()


def get(cfg, dotted, default=_MISSING):
    """cfg['a']['b'] for 'a.b'; default (or KeyError) when a part is absent."""
    cur = cfg
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            if default is _MISSING:
                raise KeyError(dotted)
            return default
        cur = cur[part]
    return cur


def cpu_name():
    """The CPU's model name from /proc/cpuinfo ("unknown" elsewhere), for the
    machine line of benchmark reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def cfg_str(v):
    """A string as libconfig text (a --set value): quoted, '"' and '\\'
    escaped, control characters as \\xNN, so any path reaches frost as itself."""
    return '"' + "".join(f"\\x{ord(c):02x}" if ord(c) < 0x20 else "\\" + c if c in '"\\' else c for c in v) + '"'


def time_frost_epochs(frost, cfg, dataset, threads, epochs, warmup, sets=()):
    """One frost run of the experiment file cfg on dataset (split "random"),
    epochs + warmup training epochs, one evaluation at the end: the epoch
    times after the warm-up (train_seconds of the results history), peak RSS
    (/usr/bin/time) and the losses. Exits with frost's message when it fails."""
    import os
    import statistics
    import subprocess
    import sys
    import tempfile

    import h5py
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.h5")
        cmd = ["/usr/bin/time", "-f", "%M", frost, "run", cfg,
               "--set", f"dataset={cfg_str(os.path.abspath(dataset))}", "--set", 'split="random"',
               "--set", f"epochs={epochs + warmup}", "--set", "runs=1", "--set", f"eval_every={epochs + warmup}",
               "--set", f"threads={threads}", "--set", f"output={cfg_str(out)}", "--quiet"]
        for s in sets:
            cmd += ["--set", s]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            sys.exit(f"frost failed: {r.stderr}")
        rss = int(r.stderr.strip().splitlines()[-1]) * 1024
        with h5py.File(out, "r") as f:
            hist = next(iter(f["runs"].values()))["history"][:]
    t = [float(x) for x in hist["train_seconds"][warmup:]]
    return {"framework": "frost", "threads": threads, "epochs": len(t), "epoch_median_s": statistics.median(t),
            "epoch_min_s": min(t), "epoch_max_s": max(t), "peak_rss_bytes": rss,
            "final_loss": float(hist["loss"][-1])}


def work_dir(path, prefix):
    """A benchmark's working folder: path (made if missing), or a temporary
    one when path is None. Returns (folder, handle); cleanup() the handle
    (None for a given path) when done."""
    if path:
        os.makedirs(path, exist_ok=True)
        return path, None
    import tempfile
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    return tmp.name, tmp


def print_table(hdr, rows):
    """Rows of cells as left-aligned columns under a header, on stdout."""
    w = [max(len(str(r[k])) for r in list(rows) + [hdr]) for k in range(len(hdr))]
    print("  ".join(str(h).ljust(w[k]) for k, h in enumerate(hdr)))
    for r in rows:
        print("  ".join(str(v).ljust(w[k]) for k, v in enumerate(r)))


def write_json(path, obj):
    """obj as indented JSON at path, whole or not at all (a temporary name,
    then a rename); nothing when path is None."""
    if not path:
        return
    import json
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)
