/* The photo files under --media-dir: content-addressed names, written whole or not at all. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/sha.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/store/media.h"

void lb_media_hash(const void *bytes, size_t len, char hash[LB_IMAGE_HASH_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(bytes, len, digest);
    for (size_t i = 0; i != sizeof(digest); ++i) {
        hash[2 * i] = hex[digest[i] >> 4];
        hash[2 * i + 1] = hex[digest[i] & 15];
    }
    hash[2 * sizeof(digest)] = '\0';
}

void lb_media_name(const char *hash, lb_image_type_t type, char name[LB_IMAGE_NAME_SIZE])
{
    snprintf(name, LB_IMAGE_NAME_SIZE, "%.2s/%.64s.%s", hash, hash, lb_image_extension(type));
}

static int is_hex(const char *p, size_t n)
{
    for (size_t i = 0; i != n; ++i)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

int lb_media_name_parse(const char *name, size_t len, lb_image_type_t *type, char hash[LB_IMAGE_HASH_SIZE])
{
    /* "ab/" + 64 hex digits + "." + an extension */
    if (len < 3 + 64 + 2 || name[2] != '/' || name[3 + 64] != '.' || !is_hex(name, 2) || !is_hex(name + 3, 64) ||
        memcmp(name, name + 3, 2) != 0)
        return LB_ENOTFOUND;
    int t = lb_image_type_of_extension(name + 3 + 64 + 1, len - (3 + 64 + 1));
    if (t < 0)
        return LB_ENOTFOUND;
    *type = (lb_image_type_t)t;
    memcpy(hash, name + 3, 64);
    hash[64] = '\0';
    return 0;
}

/*
 * Removes the temporary files (".HASH.PID.N.tmp", see lb_media_write) that a process stopped mid-write left in the
 * two-digit folders, once they are older than TEMP_MAX_AGE: another process sharing the folder may be writing one now,
 * and a write takes milliseconds.
 */
#define TEMP_MAX_AGE (60 * 60)

static void remove_stale_temporaries(const char *dir)
{
    char path[4096];
    size_t removed = 0;
    time_t now = time(NULL);
    for (int i = 0; i != 256; ++i) {
        int n = snprintf(path, sizeof(path), "%s/%c%c", dir, "0123456789abcdef"[i >> 4], "0123456789abcdef"[i & 15]);
        DIR *folder = opendir(path);
        if (folder == NULL)
            continue;
        for (struct dirent *entry; (entry = readdir(folder)) != NULL;) {
            size_t len = strlen(entry->d_name);
            struct stat st;
            if (entry->d_name[0] != '.' || len < 5 || strcmp(entry->d_name + len - 4, ".tmp") != 0 ||
                snprintf(path + n, sizeof(path) - (size_t)n, "/%s", entry->d_name) >= (int)(sizeof(path) - (size_t)n))
                continue;
            if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > TEMP_MAX_AGE && unlink(path) == 0)
                ++removed;
            path[n] = '\0';
        }
        closedir(folder);
    }
    if (removed != 0)
        lb_log(LB_LOG_INFO, "media: removed %zu temporary file%s left by a stopped upload in %s", removed, removed == 1 ? "" : "s",
               dir);
}

int lb_media_dir_prepare(const char *dir, char *err, size_t errsize)
{
    char path[4096];
    struct stat st;
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        snprintf(err, errsize, "--media-dir is too long");
        return LB_EINPUT;
    }
    /* mkdir -p: each parent in turn, then the folder itself. */
    for (char *p = path + 1;; ++p) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errsize, "cannot make --media-dir %s: %s", path, strerror(errno));
            return LB_EINPUT;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errsize, "--media-dir %s is not a folder livebuyd can write to", dir);
        return LB_EINPUT;
    }
    remove_stale_temporaries(dir);
    return 0;
}

/* Logs why the disk refused; LB_ESTORAGE when it is out of room (or read-only), which a person can fix, else LB_EDB. */
static int media_failed(const char *what, const char *path)
{
    int error = errno;
    lb_log(LB_LOG_ERROR, "media: cannot %s %s: %s", what, path, strerror(error));
    return error == ENOSPC || error == EDQUOT || error == EROFS ? LB_ESTORAGE : LB_EDB;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len != 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Flushes the folder itself, so that a rename in it survives a crash. */
static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int lb_media_write(const char *dir, const char *name, const void *bytes, size_t len)
{
    char folder[4096], path[4096], temp[4096];
    struct stat st;
    /* The folder and the final name are shorter than the temporary name: if that fits, they do. */
    static _Atomic unsigned long serial;
    int n = snprintf(temp, sizeof(temp), "%s/%.2s/.%.64s.%ld.%lu.tmp", dir, name, name + 3, (long)getpid(), ++serial);
    if (n < 0 || (size_t)n >= sizeof(temp)) {
        errno = ENAMETOOLONG;
        return media_failed("name a file in", dir);
    }
    snprintf(folder, sizeof(folder), "%s/%.2s", dir, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len)
        return 0;
    if (mkdir(folder, 0755) != 0 && errno != EEXIST)
        return media_failed("make", folder);
    /* The temporary name is the writer's own: two uploads of the same bytes at once each write theirs, either rename wins. */
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return media_failed("create", temp);
    if (write_all(fd, bytes, len) != 0 || fsync(fd) != 0) {
        int ret = media_failed("write", temp);
        close(fd);
        unlink(temp);
        return ret;
    }
    close(fd);
    if (rename(temp, path) != 0) {
        int ret = media_failed("rename", temp);
        unlink(temp);
        return ret;
    }
    sync_dir(folder);
    return 0;
}

int lb_media_remove(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (unlink(path) != 0 && errno != ENOENT)
        return media_failed("remove", path);
    return 0;
}
