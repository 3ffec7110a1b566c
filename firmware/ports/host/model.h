/*
 * model.h - the harness's built-in int8 models (harness/virtual/models.py, BuiltinModel) in C.
 *
 * The weights and constants come from headers written by `python -m harness.virtual.export_c`
 * (the Makefile generates them), the arithmetic is the one BuiltinModel's docstring specifies, so
 * this port prints the same m-results-[...] bytes as the virtual DUT for every input.
 */
#ifndef HOST_MODEL_H
#define HOST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define MODEL_MAX_CLASSES 12     /* kws01 */
#define MODEL_MAX_INPUT 27648    /* vww01: 96 x 96 x 3 */

typedef struct {
    const char *id;          /* the m-model-[...] string */
    size_t input_size;       /* bytes one inference takes */
    size_t classes;          /* outputs of a classifier (ad01: 2 classes, 1 printed score) */
    size_t max_db;           /* MAX_DB_INPUT_SIZE: the largest `db load` the virtual DUT accepts */
    int anomaly;             /* 1: ad01, prints one anomaly score */
    int input_uint8;         /* 1: the input bytes are uint8 pixels, fed as byte - 128 */
    int logit_shift;         /* classifiers: z = floor(acc / 2^shift) */
    const int8_t *weights;   /* classes x input_size (row-major), or one 128-float slice (ad01) */
    size_t weights_len;
} model_t;

extern const model_t models[];
extern const size_t model_count;

/* The model called `id`, or NULL. */
const model_t *model_find(const char *id);

/* Values printed in m-results-[...]: 1 for ad01, else the class count. */
size_t model_outputs(const model_t *model);

/* One inference on `input` (model->input_size bytes) into out[0 .. model_outputs()-1]. */
void model_run(const model_t *model, const uint8_t *input, double *out);

#endif /* HOST_MODEL_H */
