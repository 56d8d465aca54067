/* Process figures from /proc/self (stat, fd) and getrlimit, as Prometheus's process_* metrics define them. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "livebuy/base/process.h"

/* The boot time (btime of /proc/stat), in seconds since the epoch: /proc/self/stat gives the start in ticks after it. */
static int boot_time(double *seconds)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -1;
    char line[256];
    unsigned long long btime;
    int ret = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "btime %llu", &btime) == 1) {
            *seconds = (double)btime;
            ret = 0;
            break;
        }
    }
    fclose(f);
    return ret;
}

/* utime, stime (fields 14, 15), starttime (22) and rss (24) of /proc/self/stat; the name (2) may hold spaces. */
static int read_stat(lb_process_stats_t *out, double boot)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *after_name = strrchr(buf, ')');
    unsigned long long utime, stime, start, rss;
    if (after_name == NULL || sscanf(after_name + 2,
                                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %*u %llu",
                                     &utime, &stime, &start, &rss) != 4)
        return -1;
    double ticks = (double)sysconf(_SC_CLK_TCK);
    out->cpu_seconds = (double)(utime + stime) / ticks;
    out->start_time_seconds = boot + (double)start / ticks;
    out->resident_bytes = rss * (uint64_t)sysconf(_SC_PAGESIZE);
    return 0;
}

static uint64_t count_open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return 0;
    uint64_t n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL)
        n += entry->d_name[0] != '.';
    closedir(dir);
    return n - 1; /* the directory's own descriptor */
}

int lb_process_stats(lb_process_stats_t *out)
{
    double boot;
    struct rlimit limit;
    memset(out, 0, sizeof(*out));
    if (boot_time(&boot) != 0 || read_stat(out, boot) != 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->open_fds = count_open_fds();
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
        out->max_fds = (uint64_t)limit.rlim_cur;
    return 0;
}
