/*
 * fuzz_model.c - the model-file reader on arbitrary bytes, and the
 * configuration a model file carries.
 */
#include "fuzz_util.h"
#include "frost/config.h"
#include "frost/results.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    frost_model_file mf;
    if (frost_model_file_load(&mf, path) == FROST_OK) {
        frost_config c;
        frost_config_default(&c);
        frost_config_load_text(&c, mf.config, path);
        frost_model_file_release(&mf);
    }
    close(fd);
    return 0;
}
