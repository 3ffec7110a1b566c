/*
 * model.c - BuiltinModel's integer arithmetic (harness/virtual/models.py), step for step.
 *
 * Every step is integer except the ad01 input conversion and the final divisions, which are single
 * IEEE double operations and so give the same bits in C as in numpy (x86-64 and arm64 evaluate
 * double expressions in double: FLT_EVAL_METHOD 0).
 */
#include <string.h>

#include "model.h"

#include "builtin_ad01.h"
#include "builtin_ic01.h"
#include "builtin_kws01.h"
#include "builtin_vww01.h"

#define MODEL(UP, low)                                                                          \
    {BUILTIN_##UP##_ID, BUILTIN_##UP##_INPUT_SIZE, BUILTIN_##UP##_CLASSES, BUILTIN_##UP##_MAX_DB, \
     BUILTIN_##UP##_ANOMALY, BUILTIN_##UP##_INPUT_UINT8, BUILTIN_##UP##_LOGIT_SHIFT,            \
     builtin_##low##_weights, BUILTIN_##UP##_WEIGHTS_LEN}

const model_t models[] = {MODEL(KWS01, kws01), MODEL(VWW01, vww01), MODEL(IC01, ic01), MODEL(AD01, ad01)};
const size_t model_count = sizeof models / sizeof models[0];

/* The static buffers of main.c are sized by these: a model that outgrows them fails the build. */
typedef char check_classes[(BUILTIN_KWS01_CLASSES <= MODEL_MAX_CLASSES && BUILTIN_VWW01_CLASSES <= MODEL_MAX_CLASSES &&
                            BUILTIN_IC01_CLASSES <= MODEL_MAX_CLASSES) ? 1 : -1];
typedef char check_input[(BUILTIN_VWW01_INPUT_SIZE <= MODEL_MAX_INPUT && BUILTIN_IC01_INPUT_SIZE <= MODEL_MAX_INPUT &&
                          BUILTIN_KWS01_INPUT_SIZE <= MODEL_MAX_INPUT && BUILTIN_AD01_INPUT_SIZE <= MODEL_MAX_INPUT) ? 1 : -1];

const model_t *model_find(const char *id)
{
    size_t i;

    for (i = 0; i < model_count; i++)
        if (strcmp(models[i].id, id) == 0)
            return &models[i];
    return NULL;
}

size_t model_outputs(const model_t *model)
{
    return model->anomaly ? 1 : model->classes;
}

/* floor(value / 2^shift) without relying on >> of a negative number (implementation-defined). */
static int32_t floor_shift(int32_t value, int shift)
{
    if (value >= 0)
        return value >> shift;
    return -(int32_t)((uint32_t)(-(value + 1)) >> shift) - 1;
}

static void classify(const model_t *model, const uint8_t *input, double *out)
{
    static const uint32_t exp4[4] = BUILTIN_EXP4;
    int32_t z[MODEL_MAX_CLASSES], top = -128;
    uint32_t e[MODEL_MAX_CLASSES], sum = 0;
    size_t c, i, n = model->input_size;

    for (c = 0; c < model->classes; c++) {
        const int8_t *w = model->weights + c * n;
        int32_t acc = 0; /* |acc| < 27648 * 127 * 128 < 2^31 */

        for (i = 0; i < n; i++) {
            int32_t x = model->input_uint8 ? (int32_t)input[i] - 128
                                           : (input[i] < 128 ? (int32_t)input[i] : (int32_t)input[i] - 256);
            acc += (int32_t)w[i] * x;
        }
        z[c] = floor_shift(acc, model->logit_shift);
        if (z[c] < -128)
            z[c] = -128;
        if (z[c] > 127)
            z[c] = 127;
        if (z[c] > top)
            top = z[c];
    }
    for (c = 0; c < model->classes; c++) {
        uint32_t d = (uint32_t)(top - z[c]); /* 0 .. 255 */

        e[c] = d < 68 ? exp4[d & 3u] >> (d >> 2) : 0;
        sum += e[c]; /* >= 65536: the top class has d = 0 */
    }
    for (c = 0; c < model->classes; c++) {
        int32_t q = (int32_t)((e[c] * 256u) / sum) - 128;

        if (q > 127)
            q = 127;
        out[c] = (double)(q + 128) / 256.0; /* the int8 softmax output dequantised: exact */
    }
}

static void anomaly_score(const model_t *model, const uint8_t *input, double *out)
{
    size_t i, n = model->input_size / 4, frame = BUILTIN_AD01_AD_FRAME;
    int32_t total = 0; /* <= 640 * 255^2 < 2^31 */

    for (i = 0; i < n; i++) {
        const uint8_t *b = input + 4 * i;
        uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        float x;
        double y;
        int32_t q, d;

        memcpy(&x, &bits, sizeof x); /* float32 little-endian, as numpy's '<f4' */
        y = (double)x * BUILTIN_AD01_AD_SCALE + 0.5;
        /* floor, clamped to int8 in double before converting (so +-inf clamp too); NaN counts 0 */
        if (y != y)
            q = 0;
        else if (y >= 127.0)
            q = 127;
        else if (y < -127.0)
            q = -128;
        else {
            q = (int32_t)y; /* truncates toward zero ... */
            if ((double)q > y)
                q--;        /* ... floor for negatives */
        }
        d = q - model->weights[i % frame];
        total += d * d;
    }
    out[0] = (double)total / (double)(n * BUILTIN_AD01_AD_SCALE * BUILTIN_AD01_AD_SCALE);
}

void model_run(const model_t *model, const uint8_t *input, double *out)
{
    if (model->anomaly)
        anomaly_score(model, input, out);
    else
        classify(model, input, out);
}
