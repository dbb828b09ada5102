/*
 * results_impl.h - the parts of the results file shared between results.c
 * (one HDF5 file: its run groups, history, state and summary) and store.c
 * (the results file as users see it: the main file plus the pending runs
 * beside it, locks, claims, compaction, merging).
 */
#ifndef FROST_RESULTS_IMPL_H
#define FROST_RESULTS_IMPL_H

#include "frost/results.h"
#include "io/h5_impl.h"

/* Root attributes (format, version, created_by) and the /runs group of a
 * new file. */
frost_status frost__results_write_header(hid_t f, const char *path);

/* Every run of one open HDF5 results file, in the order of its `order`
 * attributes (ties by name); *runs malloc'd, configs owned. */
frost_status frost__results_read_runs(hid_t f, const char *path, frost_run_info **runs, int64_t *n);
void frost__run_infos_free(frost_run_info *runs, int64_t n);
/* The row of run `id` of an open file (ri->config owned). */
frost_status frost__results_read_one(hid_t f, const char *path, const char *id, frost_run_info *ri);

/* One run group /runs/ID: attributes, history, state. */
frost_status frost__results_write_run(hid_t file, const frost_run_info *ri, const frost_run_payload *p,
                                      const char *path);
/* /summary of `all` (one row per configuration without its seed). */
frost_status frost__results_write_summary(hid_t f, const frost_results *all, const char *path);

/* Read a run's state or history from the open file that holds it. */
frost_status frost__results_read_state_in(hid_t f, const char *path, const char *id, frost_run_state *out);
frost_status frost__results_read_history_in(hid_t f, const char *path, const char *id, frost_epoch_record **out,
                                            int64_t *n);

/* Do two stored runs hold the same result: the same configuration (as
 * frost_config_canonical compares it), seed, outcome and logits? Timings and
 * thread counts may differ. *why names the first difference. */
bool frost__results_same_run(const frost_run_info *a, const frost_run_info *b, const char **why);

/* ---- store.c: the results file with its pending runs --------------------------------- */

/* frost_results_load; must_exist = false: no file at all is no runs. */
frost_status frost__results_load(frost_results *r, const char *path, bool must_exist);

/* Is run id stored (main file or pending)? ri (may be NULL) receives its row
 * (config owned) when found. */
frost_status frost__results_find_info(const char *path, const char *id, frost_run_info *ri, bool *found);

/* Claim run id of the results file at path before training it: an
 * exclusive flock on PATH.pending/KEY.claim, held until
 * frost__results_unclaim (or the process's death). wait = false: FROST_DONE
 * at once when another process holds it. */
frost_status frost__results_claim(const char *path, const char *id, bool wait, const volatile int *stop,
                                  frost__flock *c);
void frost__results_unclaim(frost__flock *c);
/* How many bytes the store may add to a results file's path (its pending
 * files and their temporaries): an output path must leave this much room. */
size_t frost__results_path_room(void);

/* A run id as a file name (malloc'd; NULL when out of memory): letters,
 * digits and "-_.+=" kept, anything else (and a leading dot) as %XX, a long
 * id cut with a hash of the whole. The pending files and checkpoints use it. */
char *frost__results_run_key(const char *id);

#endif
