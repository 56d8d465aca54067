/* Where livebuyd finds the files it ships with (its migrations, sql/, and its web pages, web/) when --sql-dir and
 * --web-dir are not given: installed beside the binary, or the checkout's when it runs from its build tree. */
#ifndef LIVEBUY_INSTALL_H
#define LIVEBUY_INSTALL_H

#include <stddef.h>

/*
 * Writes into out (size bytes) the folder that holds sql/ and web/ for the running executable:
 *   - the checkout (the source folder it was built from) when the executable lies in its build folder;
 *   - otherwise the installed data folder, found from the executable's own place (PREFIX/bin/livebuyd ->
 *     PREFIX/share/livebuy), so an install under any --prefix finds its own files;
 *   - the data folder of the configured install prefix when the executable's place cannot be read.
 * Returns the rule that chose it ("build tree", "installed", "configured"), for the start-up line.
 */
const char *lb_install_data_dir(char *out, size_t size);

#endif
