/*
 * frost/synth.h - synthetic node-classification datasets: a contextual
 * stochastic block model with heavy-tailed (power-law) expected degrees,
 * tunable edge homophily and feature signal, written straight to a dataset
 * file (frost/dataset.h) with a random split named "random".
 *
 *     frost_synth_opts o = frost_synth_opts_default();
 *     o.num_nodes = 169343; o.num_edges = 1166243; o.num_features = 128; o.num_classes = 40;
 *     if (frost_synth("arxiv.h5", &o) < 0) fprintf(stderr, "%s\n", frost_last_error());
 */
#ifndef FROST_SYNTH_H
#define FROST_SYNTH_H

#include "frost/status.h"
#include "frost/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct frost_synth_opts {
    const char *name;           /* default "synth" */
    int64_t num_nodes;          /* N */
    int64_t num_edges;          /* undirected edges (distinct pairs, no self-loops) */
    int64_t num_features;       /* F */
    int32_t num_classes;        /* C */
    double homophily;           /* target fraction of edges inside a class, [0, 1] */
    int32_t communities;        /* planted communities (0: none): nodes in K random blocks */
    double mixing;              /* with communities: fraction of edges between two blocks, [0, 1] */
    double feature_signal;      /* class-mean norm relative to unit noise per dimension */
    double degree_exponent;     /* power-law exponent of expected degrees (> 2; 0 = uniform) */
    double train_fraction, valid_fraction; /* rest is test */
    bool symmetrize;            /* store both directions (default true) */
    uint64_t seed;
    int compression;            /* deflate level for the features (default 1) */
    frost_progress_fn progress;
    void *progress_user;
} frost_synth_opts;

FROST_API frost_synth_opts frost_synth_opts_default(void);

/* Contextual stochastic block model with heavy-tailed degrees, written
 * straight to OUT (features streamed in blocks). */
FROST_API frost_status frost_synth(const char *out_path, const frost_synth_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
