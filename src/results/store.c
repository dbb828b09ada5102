/*
 * store.c - the results file as frost's users see it: the main file PATH
 * plus runs not yet folded into it, with locks that let any number of
 * processes append to one results file.
 *
 *   PATH                  the main file (results.c's layout, /summary included)
 *   PATH.pending/         runs appended since the last compaction:
 *       KEY.run.h5          one run (KEY: the run id, file-name safe)
 *       SEQ-PID.batch.h5    runs appended together (all or none)
 *       KEY.claim           a run being trained (flock held while training)
 *   PATH.lock             flock'ed by a writer for the whole of an append
 *
 * Appending a run writes one small pending file (temporary name, fsync,
 * rename) and never rewrites earlier runs. When the pending files reach the
 * number of runs in the main file, the append folds them in: a new main file
 * holding every run is written (H5Ocopy of each run group) and renamed over
 * the old one, then the folded pending files are removed. The main file at
 * least doubles at each fold, so a sweep of n runs writes O(n) run copies in
 * all (amortised O(1) per append) where rewriting the file at every append
 * wrote O(n^2). frost run folds everything when it finishes, so h5py sees
 * every run in PATH alone.
 *
 * Crash safety: every file appears by rename, complete. A kill during a
 * fold leaves the old main file and every pending file; a kill between the
 * rename and the removals leaves pending files whose runs are also in the
 * main file: readers take the main file's copy, and the next fold removes
 * them (an append refuses an id the main file holds, so such a duplicate
 * can only be a leftover).
 *
 * Readers take no lock. They list the pending files, then read the main
 * file and each pending one; a pending file that vanished meanwhile (folded
 * by a writer) or a main file replaced meanwhile makes them start again.
 */
#include "results/results_impl.h"
#include "frost/config.h"
#include "io/io_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SUFFIX_RUN ".run.h5"
#define SUFFIX_BATCH ".batch.h5"
#define SUFFIX_CLAIM ".claim"
#define READ_TRIES 64
/* internal: the files changed underneath a reader, read again */
#define RETRY ((frost_status)(FROST_DONE + 1))

/* ---- names ------------------------------------------------------------------------- */

typedef struct store {
    char *main; /* PATH */
    char *lock; /* PATH.lock */
    char *dir;  /* PATH.pending */
} store;

static char *cat2(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static char *in_dir(const store *s, const char *name)
{
    size_t L = strlen(s->dir) + strlen(name) + 2;
    char *p = malloc(L);
    if (p) snprintf(p, L, "%s/%s", s->dir, name);
    return p;
}

static void store_free(store *s)
{
    free(s->main);
    free(s->lock);
    free(s->dir);
    memset(s, 0, sizeof *s);
}

static frost_status store_init(store *s, const char *path)
{
    memset(s, 0, sizeof *s);
    if (!path || !path[0]) return frost__error(FROST_ERR_INVALID, "results file: empty path");
    /* a results file named through a symbolic link is the file it points to:
     * its lock, pending folder and replacement all go beside the target, so
     * that writers through the link and through the target share them (and
     * a fold replaces the target, not the link) */
    struct stat sb;
    s->main = lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) ? realpath(path, NULL) : NULL;
    if (!s->main) s->main = strdup(path);
    path = s->main;
    s->lock = cat2(path, ".lock");
    s->dir = cat2(path, ".pending");
    if (!s->main || !s->lock || !s->dir) {
        store_free(s);
        return frost__error(FROST_ERR_NOMEM, "out of memory");
    }
    return FROST_OK;
}

/* A run id as a file name: letters, digits and "-_.+=" kept, anything else
 * (and a leading dot) as %XX; ids that would be long keep 150 characters
 * and add a hash of the whole id. */
char *frost__results_run_key(const char *id)
{
    size_t L = strlen(id);
    char *k = malloc(3 * L + 32);
    if (!k) return NULL;
    size_t w = 0;
    for (size_t i = 0; i < L; i++) {
        unsigned char c = (unsigned char)id[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '_' || c == '+' || c == '=' || (c == '.' && i > 0);
        if (plain) k[w++] = (char)c;
        else w += (size_t)sprintf(k + w, "%%%02X", c);
    }
    k[w] = 0;
    if (w > 180) sprintf(k + 150, "~%016llx", (unsigned long long)frost_hash64(id, L));
    return k;
}

/* The longest name the store adds to a results file's path: ".pending/",
 * a run key (at most 180 characters, else 150 and a 17-character hash), the
 * longer suffix, and a temporary's ".tmp.PID". */
size_t frost__results_path_room(void)
{
    return strlen(".pending/") + 180 + strlen(SUFFIX_BATCH) + strlen(".tmp.") + 10;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a > b && strcmp(s + a - b, suf) == 0;
}

static bool exists(const char *p) { return access(p, F_OK) == 0; }

static frost_status make_dir(const store *s)
{
    if (mkdir(s->dir, 0755) != 0 && errno != EEXIST) return frost__io_error(s->dir, errno, "cannot create the folder");
    return FROST_OK;
}

/* ---- pending files ------------------------------------------------------------------- */

typedef struct plist {
    char **name; /* file names in the pending folder */
    int64_t n;
} plist;

static void plist_free(plist *l)
{
    for (int64_t k = 0; k < l->n; k++) free(l->name[k]);
    free(l->name);
    l->name = NULL;
    l->n = 0;
}

/* A pending file that cannot be read as a run: the error, with the way out
 * (frost writes them whole, so such a file was put there by someone else). */
static frost_status not_ours(frost_status st, const store *s)
{
    char *m = strdup(frost_last_error()); /* the message buffer is written below */
    st = frost__error(st, "%s (not a run frost wrote? move it out of %s/ and try again)", m ? m : "unreadable",
                      s->dir);
    free(m);
    return st;
}

/* Pending run files (complete ones: temporaries end in .tmp.PID). */
static frost_status plist_read(const store *s, plist *l)
{
    memset(l, 0, sizeof *l);
    DIR *d = opendir(s->dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) return FROST_OK;
        return frost__io_error(s->dir, errno, "cannot list");
    }
    int64_t cap = 0;
    struct dirent *e;
    frost_status st = FROST_OK;
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, SUFFIX_RUN) && !has_suffix(e->d_name, SUFFIX_BATCH)) continue;
        /* only regular files: frost writes nothing else here, and opening a
         * FIFO someone put there would block forever */
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (l->n == cap) {
            cap = cap ? 2 * cap : 64;
            char **g = realloc(l->name, (size_t)cap * sizeof *g);
            if (!g) {
                st = frost__error(FROST_ERR_NOMEM, "out of memory");
                break;
            }
            l->name = g;
        }
        if (!(l->name[l->n] = strdup(e->d_name))) {
            st = frost__error(FROST_ERR_NOMEM, "out of memory");
            break;
        }
        l->n++;
    }
    closedir(d);
    if (st < 0) plist_free(l);
    return st;
}

/* ---- a consistent view: the main file and the pending files ---------------------------- */

typedef struct snapshot {
    char **files;           /* [0] the main file when main_exists, then pending files (full paths) */
    int32_t nfiles;
    bool main_exists;
    frost_run_info *runs;   /* ordered; configs owned; .order renumbered 0..n-1 */
    int32_t *file_of;       /* (n) which file holds the run */
    int64_t *stored_order;  /* (n) the order attribute as stored */
    int64_t n, cap;
} snapshot;

static void snapshot_free(snapshot *sn)
{
    for (int32_t k = 0; k < sn->nfiles; k++) free(sn->files[k]);
    free(sn->files);
    frost__run_infos_free(sn->runs, sn->n);
    free(sn->file_of);
    free(sn->stored_order);
    memset(sn, 0, sizeof *sn);
}

static frost_status snap_add_file(snapshot *sn, char *path)
{
    char **g = realloc(sn->files, (size_t)(sn->nfiles + 1) * sizeof *g);
    if (!g) {
        free(path);
        return frost__error(FROST_ERR_NOMEM, "out of memory");
    }
    sn->files = g;
    sn->files[sn->nfiles++] = path;
    return FROST_OK;
}

static frost_status snap_reserve(snapshot *sn, int64_t want)
{
    if (want > sn->cap) {
        int64_t cap = sn->cap ? sn->cap : 64;
        while (cap < want) cap *= 2;
        frost_run_info *a = realloc(sn->runs, (size_t)cap * sizeof *a);
        if (a) sn->runs = a;
        int32_t *b = realloc(sn->file_of, (size_t)cap * sizeof *b);
        if (b) sn->file_of = b;
        int64_t *c = realloc(sn->stored_order, (size_t)cap * sizeof *c);
        if (c) sn->stored_order = c;
        if (!a || !b || !c) return frost__error(FROST_ERR_NOMEM, "out of memory");
        sn->cap = cap;
    }
    return FROST_OK;
}

static frost_status snap_add_runs(snapshot *sn, frost_run_info *rr, int64_t n, int32_t file)
{
    frost_status st = snap_reserve(sn, sn->n + n);
    if (st < 0) return st;
    for (int64_t k = 0; k < n; k++) {
        sn->runs[sn->n] = rr[k];
        sn->file_of[sn->n] = file;
        sn->stored_order[sn->n] = rr[k].order;
        sn->n++;
    }
    return FROST_OK;
}

/* Run id -> index (open addressing over FNV hashes). The map borrows the
 * id strings: they must not move while it is used. */
typedef struct idmap {
    const char **key;
    int64_t *val;
    size_t cap;
} idmap;

static void idmap_free(idmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

static frost_status idmap_init(idmap *m, int64_t n)
{
    m->cap = 64;
    while (m->cap < 2 * (size_t)n + 2) m->cap *= 2;
    m->key = calloc(m->cap, sizeof *m->key);
    m->val = calloc(m->cap, sizeof *m->val);
    if (!m->key || !m->val) {
        idmap_free(m);
        return frost__error(FROST_ERR_NOMEM, "out of memory");
    }
    return FROST_OK;
}

static size_t idmap_slot(const idmap *m, const char *id)
{
    size_t h = (size_t)frost_hash64(id, strlen(id)) & (m->cap - 1);
    while (m->key[h] && strcmp(m->key[h], id) != 0) h = (h + 1) & (m->cap - 1);
    return h;
}

/* The index of id, or -1. */
static int64_t idmap_get(const idmap *m, const char *id)
{
    size_t h = idmap_slot(m, id);
    return m->key[h] ? m->val[h] : -1;
}

/* Add id -> v; false (nothing changed) when id is there already. */
static bool idmap_put(idmap *m, const char *id, int64_t v)
{
    size_t h = idmap_slot(m, id);
    if (m->key[h]) return false;
    m->key[h] = id;
    m->val[h] = v;
    return true;
}

typedef struct pend_file {
    char *path;
    int64_t seq;
    frost_run_info *runs;
    int64_t n;
} pend_file;

static int cmp_pend(const void *a, const void *b)
{
    const pend_file *x = a, *y = b;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return strcmp(x->path, y->path);
}

static bool same_inode(const struct stat *a, const char *path)
{
    struct stat b;
    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* One attempt; FROST_DONE: something changed underneath, try again. */
static frost_status snapshot_try(const store *s, snapshot *sn)
{
    frost_status st = FROST_OK;
    plist pl = {0};
    pend_file *pf = NULL;
    int64_t npf = 0;
    frost_run_info *rr = NULL;
    int64_t nr = 0;
    hid_t f = H5I_INVALID_HID;
    idmap ids = {0};
    struct stat main_sb;
    memset(sn, 0, sizeof *sn);
    FROST_TRY(plist_read(s, &pl));
    /* the main file after the listing: a fold that ran in between removed
     * pending files we listed, which the next step notices */
    if (stat(s->main, &main_sb) == 0) {
        st = frost__h5_open_read(&f, s->main, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL);
        if (st < 0) {
            if (!same_inode(&main_sb, s->main)) st = FROST_DONE;
            goto fail;
        }
        FROST_TRY(frost__results_read_runs(f, s->main, &rr, &nr));
        H5Fclose(f);
        f = H5I_INVALID_HID;
        sn->main_exists = true;
        char *m = strdup(s->main);
        if (!m) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        FROST_TRY(snap_add_file(sn, m));
        st = snap_add_runs(sn, rr, nr, 0);
        if (st < 0) goto fail;
        free(rr); /* the rows moved into sn */
        rr = NULL;
        nr = 0;
    }
    FROST_CALLOC(pf, pl.n);
    for (int64_t k = 0; k < pl.n; k++) {
        pend_file *p = &pf[npf];
        if (!(p->path = in_dir(s, pl.name[k]))) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        npf++;
        st = frost__h5_open_read(&f, p->path, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL);
        if (st < 0) {
            if (!exists(p->path)) st = FROST_DONE; /* folded meanwhile */
            else st = not_ours(st, s);
            goto fail;
        }
        p->seq = 0;
        if (frost__h5_has_attr(f, "pending_seq")) FROST_TRY(frost__h5_read_attr_i64(f, "pending_seq", &p->seq, p->path));
        FROST_TRY(frost__results_read_runs(f, p->path, &p->runs, &p->n));
        H5Fclose(f);
        f = H5I_INVALID_HID;
    }
    if (sn->main_exists && !same_inode(&main_sb, s->main)) FROST_FAILED(FROST_DONE);
    qsort(pf, (size_t)npf, sizeof *pf, cmp_pend);
    int64_t total = sn->n;
    for (int64_t k = 0; k < npf; k++) total += pf[k].n;
    /* room for every run first: the map borrows ids from sn->runs, which must not move */
    FROST_TRY(snap_reserve(sn, total));
    FROST_TRY(idmap_init(&ids, total));
    for (int64_t k = 0; k < sn->n; k++) idmap_put(&ids, sn->runs[k].id, k);
    for (int64_t k = 0; k < npf; k++) {
        pend_file *p = &pf[k];
        char *path = p->path;
        p->path = NULL; /* snap_add_file owns it now, also when it fails */
        FROST_TRY(snap_add_file(sn, path));
        for (int64_t q = 0; q < p->n; q++) {
            if (!idmap_put(&ids, p->runs[q].id, sn->n)) {
                /* a leftover of an interrupted fold: the main file's copy counts */
                free(p->runs[q].config);
                p->runs[q].config = NULL;
                continue;
            }
            FROST_TRY(snap_add_runs(sn, &p->runs[q], 1, sn->nfiles - 1));
            p->runs[q].config = NULL; /* moved */
        }
    }
    for (int64_t k = 0; k < sn->n; k++) sn->runs[k].order = k;
fail:
    if (f >= 0) H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    idmap_free(&ids);
    for (int64_t k = 0; k < npf; k++) {
        free(pf[k].path);
        frost__run_infos_free(pf[k].runs, pf[k].n);
    }
    free(pf);
    frost__run_infos_free(rr, nr);
    plist_free(&pl);
    if (st != FROST_OK) snapshot_free(sn);
    return st;
}

static frost_status snapshot_read(const store *s, snapshot *sn)
{
    for (int t = 0; t < READ_TRIES; t++) {
        frost_status st = snapshot_try(s, sn);
        if (st != FROST_DONE) return st;
        usleep(1000u * (unsigned)(t < 20 ? t : 20));
    }
    return frost__error(FROST_ERR_IO, "%s: the file kept changing while being read", s->main);
}

/* ---- finding one run ----------------------------------------------------------------------- */

/* Open p and look for the run group grp in it: FROST_OK with *f open when p
 * holds it, FROST_DONE (nothing open) when it does not, RETRY when p went
 * away meanwhile (folded), an error otherwise. */
static frost_status open_holding(const store *s, const char *p, const char *grp, hid_t *f)
{
    frost_status st = frost__h5_open_read(f, p, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL);
    if (st < 0) return exists(p) ? not_ours(st, s) : RETRY;
    if (frost__h5_exists(*f, grp)) return FROST_OK;
    H5Fclose(*f);
    *f = H5I_INVALID_HID;
    return FROST_DONE;
}

/* Open the file that holds run id: FROST_OK with *f open (and *where its
 * path, owned), FROST_DONE when no file holds it. */
static frost_status find_try(const store *s, const char *id, hid_t *f, char **where)
{
    frost_status st = FROST_OK;
    char grp[200], *key = NULL, *p = NULL;
    plist pl = {0};
    struct stat main_sb;
    bool main_seen = false;
    *f = H5I_INVALID_HID;
    *where = NULL;
    snprintf(grp, sizeof grp, "runs/%s", id);
    if (stat(s->main, &main_sb) == 0) {
        main_seen = true;
        st = frost__h5_open_read(f, s->main, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL);
        if (st < 0) return same_inode(&main_sb, s->main) ? st : RETRY;
        if (frost__h5_exists(*f, grp)) {
            if ((*where = strdup(s->main))) return FROST_OK;
            H5Fclose(*f);
            *f = H5I_INVALID_HID;
            return frost__error(FROST_ERR_NOMEM, "out of memory");
        }
        H5Fclose(*f);
        *f = H5I_INVALID_HID;
    }
    if (!(key = frost__results_run_key(id))) return frost__error(FROST_ERR_NOMEM, "out of memory");
    char *name = cat2(key, SUFFIX_RUN);
    p = name ? in_dir(s, name) : NULL;
    free(name);
    free(key);
    if (!p) return frost__error(FROST_ERR_NOMEM, "out of memory");
    if (exists(p)) {
        st = open_holding(s, p, grp, f);
        if (st == FROST_OK) goto found;
        if (st != FROST_DONE) goto fail;
    }
    free(p);
    p = NULL;
    FROST_TRY(plist_read(s, &pl));
    for (int64_t k = 0; k < pl.n; k++) {
        if (!has_suffix(pl.name[k], SUFFIX_BATCH)) continue;
        if (!(p = in_dir(s, pl.name[k]))) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        st = open_holding(s, p, grp, f);
        if (st == FROST_OK) goto found;
        if (st != FROST_DONE) goto fail;
        free(p);
        p = NULL;
    }
    plist_free(&pl);
    /* not found: unless a fold replaced the main file meanwhile */
    if (main_seen ? !same_inode(&main_sb, s->main) : exists(s->main)) return RETRY;
    return FROST_DONE;
found:
    plist_free(&pl);
    *where = p;
    return FROST_OK;
fail:
    if (*f >= 0) H5Fclose(*f);
    *f = H5I_INVALID_HID;
    H5Eclear2(H5E_DEFAULT);
    plist_free(&pl);
    free(p);
    return st;
}

static frost_status find_run(const store *s, const char *id, hid_t *f, char **where)
{
    for (int t = 0; t < READ_TRIES; t++) {
        frost_status st = find_try(s, id, f, where);
        if (st != RETRY) return st;
        usleep(1000u * (unsigned)(t < 20 ? t : 20));
    }
    return frost__error(FROST_ERR_IO, "%s: the file kept changing while being read", s->main);
}

/* ---- reading ----------------------------------------------------------------------------------- */

frost_status frost_results_load(frost_results *r, const char *path) { return frost__results_load(r, path, true); }

frost_status frost__results_load(frost_results *r, const char *path, bool must_exist)
{
    frost_status st = FROST_OK;
    store s;
    snapshot sn;
    memset(r, 0, sizeof *r);
    frost__h5_init();
    FROST_TRY(store_init(&s, path));
    st = snapshot_read(&s, &sn);
    /* no main file, nothing pending: unless other processes are at work on
     * their first runs (the pending folder holds their claims), no such file */
    if (st == FROST_OK && !sn.main_exists && sn.nfiles == 0 && must_exist && !exists(s.dir)) {
        /* nothing at all: the error a missing file gives */
        hid_t f;
        st = frost__h5_open_read(&f, path, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL);
        if (st == FROST_OK) {
            H5Fclose(f);
            st = frost__error(FROST_ERR_IO, "%s: cannot open: it vanished", path);
        }
        snapshot_free(&sn);
    }
    store_free(&s);
    if (st < 0) return st;
    r->runs = sn.runs;
    r->n = sn.n;
    sn.runs = NULL;
    sn.n = 0;
    snapshot_free(&sn);
    return FROST_OK;
fail:
    return st;
}

/* What to read from the file holding one run (f open, where its path). */
typedef frost_status (*run_reader)(hid_t f, const char *where, const char *id, void *ctx);

/* Find run id and read it with fn: FROST_DONE when no file holds it. */
static frost_status with_run(const char *path, const char *id, run_reader fn, void *ctx)
{
    frost_status st = FROST_OK;
    store s;
    hid_t f = H5I_INVALID_HID;
    char *where = NULL;
    frost__h5_init();
    FROST_TRY(store_init(&s, path));
    st = find_run(&s, id, &f, &where);
    if (st == FROST_OK) {
        st = fn(f, where, id, ctx);
        H5Fclose(f);
    }
    free(where);
    store_free(&s);
fail:
    return st;
}

static frost_status read_info(hid_t f, const char *where, const char *id, void *ri)
{
    return ri ? frost__results_read_one(f, where, id, ri) : FROST_OK;
}

frost_status frost__results_find_info(const char *path, const char *id, frost_run_info *ri, bool *found)
{
    *found = false;
    if (ri) memset(ri, 0, sizeof *ri);
    frost_status st = with_run(path, id, read_info, ri);
    if (st == FROST_DONE) return FROST_OK;
    if (st >= 0) *found = true;
    return st;
}

static frost_status no_run(frost_status st, const char *path, const char *id)
{
    if (st != FROST_DONE) return st;
    return frost__error(FROST_ERR_INVALID, "%s: no run '%s' (frost report lists the runs)", path, id);
}

static frost_status read_state(hid_t f, const char *where, const char *id, void *out)
{
    return frost__results_read_state_in(f, where, id, out);
}

frost_status frost_results_read_state(const char *path, const char *id, frost_run_state *out)
{
    memset(out, 0, sizeof *out);
    return no_run(with_run(path, id, read_state, out), path, id);
}

typedef struct history_out {
    frost_epoch_record **rec;
    int64_t *n;
} history_out;

static frost_status read_history(hid_t f, const char *where, const char *id, void *ctx)
{
    history_out *h = ctx;
    return frost__results_read_history_in(f, where, id, h->rec, h->n);
}

frost_status frost_results_read_history(const char *path, const char *id, frost_epoch_record **out, int64_t *n)
{
    *out = NULL;
    *n = 0;
    return no_run(with_run(path, id, read_history, &(history_out){out, n}), path, id);
}

/* ---- writing ------------------------------------------------------------------------------------ */

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Release the writer's lock; its file goes too when no pending folder
 * remains (nothing for a later writer to coordinate). */
static void unlock_store(const store *s, frost__flock *lk) { frost__flock_drop(lk, !exists(s->dir)); }

/* Remove the pending folder when it holds nothing but stale claims. Under
 * the writer's lock. */
static void tidy(const store *s)
{
    DIR *d = opendir(s->dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, SUFFIX_CLAIM)) continue;
        /* nobody holds it: a process that died training; remove it (the
         * claim protocol checks the inode, so a claimer that opened it
         * meanwhile makes a fresh one) */
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) (void)unlinkat(dirfd(d), e->d_name, 0);
        close(fd);
    }
    closedir(d);
    (void)rmdir(s->dir); /* fails while anything is left */
}

/* One copied or new run of a main file being written. */
typedef struct outrun {
    const frost_run_info *info; /* borrowed */
    const char *file;           /* where to copy it from; NULL: new (payload) */
    int64_t stored_order;
    const frost_run_payload *payload;
} outrun;

/* Write path's main file from runs (in order, renumbered) with a fresh
 * /summary: temporary name, fsync, rename. */
static frost_status write_main(const char *path, const outrun *runs, int64_t n)
{
    frost_status st = FROST_OK;
    frost__h5_out out;
    bool open = false;
    const char *src_name = NULL;
    hid_t src = H5I_INVALID_HID, g = H5I_INVALID_HID;
    frost_results all = {0, NULL};
    FROST_CALLOC(all.runs, n);
    FROST_TRY(frost__h5_out_create(&out, path));
    open = true;
    FROST_TRY(frost__results_write_header(out.file, path));
    for (int64_t k = 0; k < n; k++) {
        const outrun *o = &runs[k];
        all.runs[k] = *o->info;
        all.runs[k].order = k;
        all.n = k + 1;
        if (!o->file) {
            FROST_TRY(frost__results_write_run(out.file, &all.runs[k], o->payload, path));
            continue;
        }
        if (!src_name || strcmp(src_name, o->file) != 0) {
            if (src >= 0) H5Fclose(src);
            src_name = o->file;
            src = H5Fopen(o->file, H5F_ACC_RDONLY, H5P_DEFAULT);
            if (src < 0) FROST_FAILED(frost__h5_fail(o->file, "cannot open"));
        }
        char name[200];
        snprintf(name, sizeof name, "runs/%s", o->info->id);
        if (H5Ocopy(src, name, out.file, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
            FROST_FAILED(frost__h5_fail(o->file, "cannot copy run %s into %s", o->info->id, path));
        if (o->stored_order != k) {
            g = H5Gopen2(out.file, name, H5P_DEFAULT);
            if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /%s", name));
            FROST_TRY(frost__h5_attr_i64(g, "order", k, path));
            H5Gclose(g);
            g = H5I_INVALID_HID;
        }
    }
    if (src >= 0) H5Fclose(src);
    src = H5I_INVALID_HID;
    FROST_TRY(frost__results_write_summary(out.file, &all, path));
    open = false;
    FROST_TRY(frost__h5_out_commit(&out));
fail:
    if (g >= 0) H5Gclose(g);
    if (src >= 0) H5Fclose(src);
    if (open) frost__h5_out_abort(&out);
    free(all.runs); /* rows borrowed */
    return st;
}

/* Remove the pending files a new main file now holds. */
static void drop_folded(const snapshot *sn)
{
    for (int32_t k = sn->main_exists ? 1 : 0; k < sn->nfiles; k++) unlink(sn->files[k]);
    if (sn->nfiles > (sn->main_exists ? 1 : 0)) frost__fsync_dir_of(sn->files[sn->nfiles - 1]);
}

/* Fold: the main file's runs, then the pending ones, then `add`, into a new
 * main file. Under the writer's lock. */
static frost_status fold(const store *s, const frost_run_info *add, const frost_run_payload *addp, int64_t n_add)
{
    frost_status st = FROST_OK;
    snapshot sn;
    outrun *o = NULL;
    FROST_TRY(snapshot_read(s, &sn));
    FROST_CALLOC(o, sn.n + n_add);
    for (int64_t k = 0; k < sn.n; k++)
        o[k] = (outrun){&sn.runs[k], sn.files[sn.file_of[k]], sn.stored_order[k], NULL};
    for (int64_t k = 0; k < n_add; k++) o[sn.n + k] = (outrun){&add[k], NULL, -1, &addp[k]};
    st = write_main(s->main, o, sn.n + n_add);
    if (st == FROST_OK) {
        drop_folded(&sn);
        tidy(s);
    }
    free(o);
    snapshot_free(&sn);
fail:
    return st;
}

/* Runs appended together as one pending file (temporary, fsync, rename). */
static frost_status write_pending(const store *s, const frost_run_info *info, const frost_run_payload *p, int64_t n)
{
    frost_status st = FROST_OK;
    frost__h5_out out;
    bool open = false;
    char *key = NULL, *name = NULL, *path = NULL;
    const int64_t seq = now_ns();
    FROST_TRY(make_dir(s));
    if (n == 1) {
        if (!(key = frost__results_run_key(info[0].id)) || !(name = cat2(key, SUFFIX_RUN))) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    } else {
        name = malloc(64);
        if (!name) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        snprintf(name, 64, "%020lld-%ld%s", (long long)seq, (long)getpid(), SUFFIX_BATCH);
    }
    if (!(path = in_dir(s, name))) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    FROST_TRY(frost__h5_out_create(&out, path));
    open = true;
    FROST_TRY(frost__results_write_header(out.file, path));
    FROST_TRY(frost__h5_attr_i64(out.file, "pending_seq", seq, path));
    for (int64_t k = 0; k < n; k++) {
        frost_run_info ri = info[k];
        ri.order = k;
        FROST_TRY(frost__results_write_run(out.file, &ri, &p[k], path));
    }
    open = false;
    st = frost__h5_out_commit(&out);
fail:
    if (open) frost__h5_out_abort(&out);
    free(key);
    free(name);
    free(path);
    return st;
}

/* Under the lock: is id stored anywhere? (The main file is open as mf.) */
static frost_status stored_locked(const store *s, hid_t mf, const plist *pl, const char *id, bool *found)
{
    frost_status st = FROST_OK;
    char grp[200];
    snprintf(grp, sizeof grp, "runs/%s", id);
    *found = mf >= 0 && frost__h5_exists(mf, grp);
    if (*found) return FROST_OK;
    char *key = frost__results_run_key(id), *name = key ? cat2(key, SUFFIX_RUN) : NULL, *p = name ? in_dir(s, name) : NULL;
    free(key);
    free(name);
    if (!p) return frost__error(FROST_ERR_NOMEM, "out of memory");
    *found = exists(p);
    free(p);
    for (int64_t k = 0; k < pl->n && !*found; k++) {
        if (!has_suffix(pl->name[k], SUFFIX_BATCH)) continue;
        hid_t f;
        if (!(p = in_dir(s, pl->name[k]))) return frost__error(FROST_ERR_NOMEM, "out of memory");
        st = frost__h5_open_read(&f, p, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL);
        free(p);
        if (st < 0) return st;
        *found = frost__h5_exists(f, grp);
        H5Fclose(f);
    }
    return FROST_OK;
}

static frost_status check_id(const char *path, const char *id)
{
    if (!id[0] || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return frost__error(FROST_ERR_INVALID, "%s: '%s' cannot name a run (empty, '.', '..' or holds '/')", path, id);
    return FROST_OK;
}

frost_status frost_results_append_many(const char *path, const frost_run_info *info, const frost_run_payload *p,
                                       int64_t n)
{
    frost_status st = FROST_OK;
    store s;
    frost__flock lk = {-1, NULL};
    hid_t mf = H5I_INVALID_HID;
    plist pl = {0};
    frost__h5_init();
    FROST_TRY(store_init(&s, path));
    for (int64_t k = 0; k < n; k++) {
        FROST_TRY(check_id(path, info[k].id));
        for (int64_t q = 0; q < k; q++)
            if (strcmp(info[q].id, info[k].id) == 0) FROST_FAIL(FROST_ERR_INVALID, "run '%s' given twice", info[k].id);
    }
    if (n == 0) goto fail;
    FROST_TRY(frost__flock_take(&lk, s.lock, true, NULL));
    int64_t n_main = 0;
    if (exists(s.main)) {
        FROST_TRY(frost__h5_open_read(&mf, s.main, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL));
        if (frost__h5_exists(mf, "runs")) {
            H5G_info_t gi;
            if (H5Gget_info_by_name(mf, "runs", &gi, H5P_DEFAULT) < 0)
                FROST_FAILED(frost__h5_fail(s.main, "cannot list /runs"));
            n_main = (int64_t)gi.nlinks;
        }
    }
    FROST_TRY(plist_read(&s, &pl));
    for (int64_t k = 0; k < n; k++) {
        bool found;
        FROST_TRY(stored_locked(&s, mf, &pl, info[k].id, &found));
        if (found) FROST_FAIL(FROST_ERR_INVALID, "%s: run '%s' is already there", path, info[k].id);
    }
    if (mf >= 0) H5Fclose(mf);
    mf = H5I_INVALID_HID;
    /* fold when the pending files would reach the main file's runs: the
     * main file doubles each time (1, 2, 4, ... runs) */
    if (pl.n + 1 >= (n_main > 1 ? n_main : 1)) {
        st = fold(&s, info, p, n);
        /* a fold needs room for a whole new main file: when the disk has
         * less, the runs still fit as a pending file (folded later) */
        if (st == FROST_ERR_IO && n_main + pl.n > 0) {
            char *first = strdup(frost_last_error());
            st = write_pending(&s, info, p, n);
            if (st < 0) st = frost__error(st, "%s", first ? first : "out of memory");
            free(first);
        }
    } else {
        st = write_pending(&s, info, p, n);
    }
fail:
    if (mf >= 0) H5Fclose(mf);
    H5Eclear2(H5E_DEFAULT);
    plist_free(&pl);
    if (lk.fd >= 0) unlock_store(&s, &lk);
    store_free(&s);
    return st;
}

frost_status frost_results_append(const char *path, const frost_run_info *info, const frost_run_payload *p)
{
    return frost_results_append_many(path, info, p, 1);
}

frost_status frost_results_compact(const char *path)
{
    frost_status st = FROST_OK;
    store s;
    frost__flock lk = {-1, NULL};
    plist pl = {0};
    frost__h5_init();
    FROST_TRY(store_init(&s, path));
    if (!exists(s.dir)) goto fail; /* nothing pending: nothing to do, nothing to lock */
    FROST_TRY(frost__flock_take(&lk, s.lock, true, NULL));
    FROST_TRY(plist_read(&s, &pl));
    if (pl.n > 0) FROST_TRY(fold(&s, NULL, NULL, 0));
    else tidy(&s);
fail:
    plist_free(&pl);
    if (lk.fd >= 0) unlock_store(&s, &lk);
    store_free(&s);
    return st;
}

/* ---- merging ------------------------------------------------------------------------------------- */

frost_status frost_results_merge(const char *out, const char *const *inputs, int64_t n_in)
{
    frost_status st = FROST_OK;
    store so, si;
    frost__flock lk = {-1, NULL};
    snapshot *sn = NULL; /* [0] out, [1 + i] input i */
    const char **origin = NULL;
    outrun *o = NULL;
    int64_t n = 0, total = 0;
    idmap ids = {0};
    memset(&si, 0, sizeof si);
    frost__h5_init();
    FROST_TRY(store_init(&so, out));
    FROST_CALLOC(sn, n_in + 1);
    FROST_TRY(frost__flock_take(&lk, so.lock, true, NULL));
    FROST_TRY(snapshot_read(&so, &sn[0]));
    if (n_in == 0 && !sn[0].main_exists && sn[0].nfiles == 0)
        FROST_FAIL(FROST_ERR_IO, "%s: cannot open: no such results file (and nothing to merge into it)", out);
    total = sn[0].n;
    for (int64_t i = 0; i < n_in; i++) {
        if (frost__same_file(inputs[i], out)) continue; /* its runs are there already */
        FROST_TRY(store_init(&si, inputs[i]));
        st = snapshot_read(&si, &sn[1 + i]);
        if (st == FROST_OK && !sn[1 + i].main_exists && sn[1 + i].nfiles == 0) {
            hid_t f;
            st = frost__h5_open_read(&f, inputs[i], FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL);
            if (st == FROST_OK) {
                H5Fclose(f);
                st = frost__error(FROST_ERR_IO, "%s: cannot open", inputs[i]);
            }
        }
        store_free(&si);
        if (st < 0) goto fail;
        total += sn[1 + i].n;
    }
    FROST_CALLOC(o, total);
    FROST_CALLOC(origin, total);
    FROST_TRY(idmap_init(&ids, total));
    for (int64_t i = 0; i <= n_in; i++) {
        const snapshot *x = &sn[i];
        const char *name = i == 0 ? out : inputs[i - 1];
        for (int64_t k = 0; k < x->n; k++) {
            const frost_run_info *ri = &x->runs[k];
            const int64_t q = idmap_get(&ids, ri->id);
            if (q >= 0) {
                /* the same id twice: one copy when both hold the same result */
                const char *why = NULL;
                if (!frost__results_same_run(o[q].info, ri, &why))
                    FROST_FAIL(FROST_ERR_INVALID,
                               "%s: run '%s' conflicts with the one in %s (%s); nothing was merged into %s", name,
                               ri->id, origin[q], why, out);
                continue;
            }
            idmap_put(&ids, ri->id, n);
            o[n] = (outrun){ri, x->files[x->file_of[k]], x->stored_order[k], NULL};
            origin[n] = name;
            n++;
        }
    }
    FROST_TRY(write_main(out, o, n));
    drop_folded(&sn[0]);
    tidy(&so);
fail:
    idmap_free(&ids);
    free(o);
    free(origin);
    if (sn)
        for (int64_t i = 0; i <= n_in; i++) snapshot_free(&sn[i]);
    free(sn);
    if (lk.fd >= 0) unlock_store(&so, &lk);
    store_free(&so);
    return st;
}

/* ---- claims -------------------------------------------------------------------------------------- */

frost_status frost__results_claim(const char *path, const char *id, bool wait, const volatile int *stop,
                                  frost__flock *c)
{
    frost_status st = FROST_OK;
    store s;
    char *key = NULL, *name = NULL, *p = NULL;
    c->fd = -1;
    c->path = NULL;
    FROST_TRY(store_init(&s, path));
    if (!(key = frost__results_run_key(id)) || !(name = cat2(key, SUFFIX_CLAIM)) || !(p = in_dir(&s, name)))
        FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    for (int t = 0;; t++) {
        FROST_TRY(make_dir(&s));
        st = frost__flock_take(c, p, wait, stop);
        /* a writer removed the empty folder between the two steps: again */
        if (st == FROST_ERR_IO && !exists(s.dir) && t < READ_TRIES) continue;
        break;
    }
fail:
    free(key);
    free(name);
    free(p);
    store_free(&s);
    return st;
}

void frost__results_unclaim(frost__flock *c) { frost__flock_drop(c, true); }
