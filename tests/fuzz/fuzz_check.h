/* The fuzz targets' one assertion: a property that does not hold is a finding, so it aborts (libFuzzer keeps the input). */
#ifndef LIVEBUY_FUZZ_CHECK_H
#define LIVEBUY_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(x)                                                                                                                   \
    do {                                                                                                                           \
        if (!(x)) {                                                                                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #x);                                                  \
            abort();                                                                                                               \
        }                                                                                                                          \
    } while (0)

#endif
