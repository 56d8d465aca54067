#!/usr/bin/env bash
# Backups of livebuy's data: the whole MariaDB server (hot, consistent, with mariadb-backup) and the product photos.
# Usage: scripts/backup.sh save DEST [--db-dir DIR | --socket PATH --datadir PATH] [--user U] [--media-dir M]
#            a backup into the new folder DEST while everything runs: the database as of one moment (every COMMIT
#            before it, none after), prepared so that it can be restored as it is, then the photos (after the
#            database: a photo no row names is harmless, a row whose photo is missing is not); DIR a private MariaDB
#            of scripts/mariadb.sh [in a checkout: .data/mariadb], or the socket and data folder of another server on
#            this machine (Debian's own: --socket /run/mysqld/mysqld.sock --datadir /var/lib/mysql, as root);
#            M the photos' folder [in a checkout: .data/media]
#        scripts/backup.sh save-in PARENT [--keep N] [the options of save]
#            the same into PARENT/YYYY-MM-DDTHHMMSSZ, then only the newest N [7] whole backups in PARENT are kept
#            (and no unfinished one older than them): what the nightly timer runs (packaging/livebuy-backup.*)
#        scripts/backup.sh restore BACKUP DIR [--media-dir M]
#            the backup into DIR, a new private MariaDB folder (scripts/mariadb.sh), started, and its photos into the
#            new or empty folder M; then livebuyd runs on it (docs/operations.md, backups)
# Installed (cmake --install) as bin/livebuy-backup. Options have environment twins: LIVEBUY_BACKUP_DB_DIR,
# LIVEBUY_BACKUP_SOCKET, LIVEBUY_BACKUP_DATADIR, LIVEBUY_BACKUP_USER, LIVEBUY_BACKUP_KEEP and LIVEBUY_MEDIA_DIR (the one
# livebuyd reads); options win. The database user needs RELOAD, PROCESS, LOCK TABLES and BINLOG MONITOR (root has
# them); its password, if any, in MYSQL_PWD. Messages go to stderr; each backup's summary is in DEST/livebuy-backup.txt.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
usage() { sed -n '3,20s/^# \{0,1\}//p' "$here/backup.sh" >&2; exit 2; }

# In a checkout the demo's private MariaDB and photos are the defaults; installed, there are none.
checkout=""
[ -f "$here/../CMakeLists.txt" ] && [ -f "$here/run.sh" ] && checkout=$(dirname "$here")

[ $# -ge 2 ] || usage
cmd=$1 target=$2 restore_dir=""
shift 2
if [ "$cmd" = restore ]; then
    [ $# -ge 1 ] || usage
    restore_dir=$1
    shift
fi
db_dir=${LIVEBUY_BACKUP_DB_DIR:-} socket=${LIVEBUY_BACKUP_SOCKET:-} datadir=${LIVEBUY_BACKUP_DATADIR:-}
user=${LIVEBUY_BACKUP_USER:-root} media=${LIVEBUY_MEDIA_DIR:-} keep=${LIVEBUY_BACKUP_KEEP:-7}
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case $1 in
        --db-dir) db_dir=$2 socket="" datadir="" ;;
        --socket) socket=$2 db_dir="" ;;
        --datadir) datadir=$2 db_dir="" ;;
        --user) user=$2 ;;
        --media-dir) media=$2 ;;
        --keep) keep=$2 ;;
        *) die "unknown option $1 (scripts/backup.sh with no arguments shows the usage)" ;;
    esac
    shift 2
done

# An absolute path for a folder that may not exist yet, from the caller's working folder (mariadb-backup changes into
# the data folder: relative paths given to it would then point elsewhere).
absolute() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

# Whether a folder is absent or empty.
empty_or_absent() { [ ! -e "$1" ] || { [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; }; }

command -v mariadb-backup >/dev/null ||
    die "mariadb-backup is not installed (Debian: apt-get install mariadb-backup; scripts/deps.sh installs it)"

save() {
    local dest=$1 log
    empty_or_absent "$dest" || die "$dest is not empty: a backup goes into a new folder"
    if [ -n "$socket$datadir" ]; then
        { [ -n "$socket" ] && [ -n "$datadir" ]; } || die "--socket and --datadir go together"
    else
        [ -n "$db_dir" ] || [ -n "$checkout" ] || die "which database? --db-dir DIR, or --socket and --datadir"
        db_dir=$(absolute "${db_dir:-$checkout/.data/mariadb}")
        socket=$db_dir/mysqld.sock
        datadir=$db_dir/data
    fi
    socket=$(absolute "$socket")
    datadir=$(absolute "$datadir")
    [ -S "$socket" ] || die "no MariaDB answers on $socket: a backup is taken from a running server"
    [ -d "$datadir/mysql" ] || die "$datadir is not a MariaDB data folder (no mysql/ in it)"
    if [ -z "$media" ] && [ -n "$checkout" ]; then
        media=$checkout/.data/media
    fi
    [ -z "$media" ] || media=$(absolute "$media")

    mkdir -p "$dest"
    log=$dest/mariadb-backup.log
    say "backing up the database on $socket into $dest/db"
    # --no-defaults: only what is said here, so that a backup of the private server never reads the machine's my.cnf.
    mariadb-backup --no-defaults --backup --target-dir="$dest/db" --datadir="$datadir" --socket="$socket" \
        --user="$user" >"$log" 2>&1 || { tail -n 15 "$log" >&2; die "mariadb-backup --backup failed (all of it: $log)"; }
    # Prepared now, not at restore: the backup is whole and checked while the server it came from still runs.
    mariadb-backup --no-defaults --prepare --target-dir="$dest/db" >>"$log" 2>&1 ||
        { tail -n 15 "$log" >&2; die "mariadb-backup --prepare failed (all of it: $log)"; }

    local photos=0
    if [ -n "$media" ] && [ -d "$media" ]; then
        say "copying the photos of $media"
        mkdir -p "$dest/media"
        # Files are written whole under a temporary name and renamed: the temporary ones are left out. One removed
        # meanwhile (its photo deleted) is skipped, not an error.
        (cd "$media" && tar -cf - --exclude='.*.tmp' --ignore-failed-read --warning=no-file-removed .) |
            (cd "$dest/media" && tar -xf -) || die "copying the photos of $media into $dest/media failed"
        photos=$(find "$dest/media" -type f | wc -l)
    else
        say "no photos' folder${media:+ at $media}: the backup holds the database only"
    fi

    # Written last: a folder without it is a backup that did not finish.
    {
        echo "livebuy backup"
        echo "taken_at: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "server: $(sed -n 's/^server_version = //p' "$dest/db/xtrabackup_info" 2>/dev/null)"
        echo "socket: $socket"
        echo "datadir: $datadir"
        echo "media: ${media:-none} (photos: $photos)"
    } >"$dest/livebuy-backup.txt"
    say "backup done: $dest ($(du -sh "$dest" | cut -f1), $photos photos)"
}

# save into a new folder of PARENT named by the time, then the older backups past the newest $keep whole ones go.
save_in() {
    local parent=$1 name whole=0 dir
    [[ $keep =~ ^[1-9][0-9]{0,3}$ ]] || die "--keep must be a whole number from 1 to 9999, not $keep"
    mkdir -p "$parent"
    name=$(date -u +%Y-%m-%dT%H%M%SZ)
    [ ! -e "$parent/$name" ] || die "$parent/$name exists already: one backup a second at most"
    save "$parent/$name"
    # Newest first (the names sort by time); an unfinished one (no livebuy-backup.txt) older than the last kept goes too.
    while IFS= read -r dir; do
        if [ -f "$parent/$dir/livebuy-backup.txt" ] && [ -d "$parent/$dir/db" ]; then
            whole=$((whole + 1))
            [ "$whole" -gt "$keep" ] || continue
        elif [ "$whole" -lt "$keep" ]; then
            continue
        fi
        say "removing the old backup $parent/$dir"
        rm -rf "${parent:?}/$dir"
    done < <(find "$parent" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
        -regex '.*/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z' -printf '%f\n' | sort -r)
}

restore() {
    local backup dir media_dest=""
    backup=$(absolute "$target")
    dir=$(absolute "$restore_dir")
    { [ -f "$backup/livebuy-backup.txt" ] && [ -d "$backup/db" ]; } ||
        die "$backup is not a backup of scripts/backup.sh save (no livebuy-backup.txt and db/)"
    grep -Eq '^backup_type = (log-applied|full-prepared)$' "$backup/db/xtrabackup_checkpoints" 2>/dev/null ||
        die "$backup/db was not prepared (a backup cut short?): take another one"
    if [ -d "$dir/data" ] && [ -n "$(ls -A "$dir/data")" ]; then
        die "$dir/data holds a database already: restore into a new folder (move the old one aside first)"
    fi
    if [ -n "$media" ]; then
        media_dest=$(absolute "$media")
        empty_or_absent "$media_dest" || die "$media_dest is not empty: photos are restored into a new or empty folder"
    fi

    mkdir -p "$dir"
    say "restoring the database into $dir/data"
    mariadb-backup --no-defaults --copy-back --target-dir="$backup/db" --datadir="$dir/data" >"$dir/restore.log" 2>&1 ||
        { tail -n 15 "$dir/restore.log" >&2; die "mariadb-backup --copy-back failed (all of it: $dir/restore.log)"; }
    if [ -n "$media_dest" ]; then
        mkdir -p "$media_dest"
        if [ -d "$backup/media" ]; then
            say "restoring the photos into $media_dest"
            (cd "$backup/media" && tar -cf - .) | (cd "$media_dest" && tar -xf -) ||
                die "copying the photos of $backup/media into $media_dest failed"
        fi
    fi
    bash "$here/mariadb.sh" start "$dir"
    # livebuy's databases: those with its migrations table (the backup holds the whole server).
    local name found=0
    for name in $(bash "$here/mariadb.sh" sql "$dir" --batch --skip-column-names -e \
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'schema_migrations' ORDER BY 1"); do
        say "restored as of $(sed -n 's/^taken_at: //p' "$backup/livebuy-backup.txt"): livebuyd --db" \
            "'mysql://root@localhost/$name?socket=$dir/mysqld.sock'${media_dest:+ --media-dir $media_dest}"
        found=1
    done
    [ "$found" = 1 ] || say "restored, but the backup holds no livebuy database (no schema_migrations table)"
}

case $cmd in
    save) save "$(absolute "$target")" ;;
    save-in) save_in "$(absolute "$target")" ;;
    restore) restore ;;
    *) usage ;;
esac
