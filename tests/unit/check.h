/* A minimal assertion kit for the unit tests: CHECK counts, CHECK_RESULT prints "NAME: N passed, M failed". */
#ifndef LIVEBUY_TESTS_CHECK_H
#define LIVEBUY_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static unsigned check_passed, check_failed;

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (cond) {                                                                                                                \
            ++check_passed;                                                                                                        \
        } else {                                                                                                                   \
            ++check_failed;                                                                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                                               \
        }                                                                                                                          \
    } while (0)

/* Checks that a NUL-terminated string contains a substring, printing both when it does not. */
#define CHECK_CONTAINS(haystack, needle)                                                                                           \
    do {                                                                                                                           \
        const char *check_h_ = (haystack), *check_n_ = (needle);                                                                   \
        if (check_h_ != NULL && strstr(check_h_, check_n_) != NULL) {                                                              \
            ++check_passed;                                                                                                        \
        } else {                                                                                                                   \
            ++check_failed;                                                                                                        \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, check_h_ ? check_h_ : "(null)",         \
                    check_n_);                                                                                                     \
        }                                                                                                                          \
    } while (0)

/* Prints the summary line and gives main's return value. */
#define CHECK_RESULT(name) (printf("%s: %u passed, %u failed\n", (name), check_passed, check_failed), check_failed != 0)

#endif
