/*
 * fuzz_config.c - the experiment-file reader: parse, check, expand the sweep,
 * write the effective text and read that back.
 */
#include "frost/config.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    frost_config c;
    frost_config_default(&c);
    if (frost_config_load_text(&c, text, "fuzz.cfg") == FROST_OK) {
        frost_config_check(&c);
        int64_t np = frost_config_num_points(&c);
        for (int64_t k = 0; k < np && k < 8; k++) {
            frost_config pt;
            if (frost_config_point(&c, k, &pt) != FROST_OK) continue;
            char id[160];
            frost_config_run_id(&pt, &c, 0, id, sizeof id);
            char *t = frost_config_to_text(&pt);
            if (t) {
                frost_config back;
                frost_config_default(&back);
                frost_config_load_text(&back, t, "text");
                free(t);
            }
        }
    }
    /* and the same bytes as a --set argument */
    frost_config_default(&c);
    frost_config_set_arg(&c, text);
    free(text);
    return 0;
}
