/* Where livebuyd's own files are (livebuy/app/install.h): the rule lives here, the folders come from CMake. */
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/app/install.h"

/* Set by CMakeLists.txt; the fallbacks are for a build by other means (e.g. a fuzz target's). */
#ifndef LB_SOURCE_DIR
#define LB_SOURCE_DIR "."
#endif
#ifndef LB_BUILD_DIR
#define LB_BUILD_DIR ""
#endif
#ifndef LB_BIN_TO_DATA /* the data folder relative to the binaries' (GNUInstallDirs: bin -> share/livebuy) */
#define LB_BIN_TO_DATA "../share/livebuy"
#endif
#ifndef LB_INSTALL_DATA_DIR /* the same under the prefix the build was configured with */
#define LB_INSTALL_DATA_DIR "/usr/local/share/livebuy"
#endif

/* The folder of the running executable, resolved (no links); -1 when /proc is not there. */
static int executable_dir(char *out, size_t size)
{
    char exe[PATH_MAX];
    if (realpath("/proc/self/exe", exe) == NULL)
        return -1;
    return snprintf(out, size, "%s", dirname(exe)) < (int)size ? 0 : -1;
}

/* The build folder, resolved the same way, so a path spelt through a link still compares equal. */
static int is_build_dir(const char *dir)
{
    char build[PATH_MAX];
    return LB_BUILD_DIR[0] != '\0' && realpath(LB_BUILD_DIR, build) != NULL && strcmp(build, dir) == 0;
}

const char *lb_install_data_dir(char *out, size_t size)
{
    char dir[PATH_MAX];
    if (executable_dir(dir, sizeof(dir)) != 0) {
        snprintf(out, size, "%s", LB_INSTALL_DATA_DIR);
        return "configured";
    }
    if (is_build_dir(dir)) {
        snprintf(out, size, "%s", LB_SOURCE_DIR);
        return "build tree";
    }
    char data[PATH_MAX + 64];
    snprintf(data, sizeof(data), "%s/%s", dir, LB_BIN_TO_DATA);
    if (realpath(data, dir) != NULL) /* PREFIX/share/livebuy rather than PREFIX/bin/../share/livebuy in the logs */
        snprintf(data, sizeof(data), "%s", dir);
    snprintf(out, size, "%s", data);
    return "installed";
}
