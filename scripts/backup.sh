#!/usr/bin/env bash
# Backups of livebuy's data: the whole MariaDB server (hot, consistent, with mariadb-backup) and the product photos.
# Usage: scripts/backup.sh save DEST [--db-dir DIR | --socket PATH --datadir PATH] [--user U] [--media-dir M]
#            a backup into the new folder DEST while everything runs: the database as of one moment (every COMMIT
#            before it, none after), prepared so that it can be restored as it is, then the photos (after the
#            database: a photo no row names is harmless, a row whose photo is missing is not); DIR a private MariaDB
#            of scripts/mariadb.sh [.data/mariadb], or the socket and data folder of another server on this machine
#            (Debian's own: --socket /run/mysqld/mysqld.sock --datadir /var/lib/mysql, as root); M [.data/media]
#        scripts/backup.sh restore BACKUP DIR [--media-dir M]
#            the backup into DIR, a new private MariaDB folder (scripts/mariadb.sh), started, and its photos into the
#            new or empty folder M; then livebuyd runs on it (docs/operations.md, backups)
# The database user needs RELOAD, PROCESS, LOCK TABLES and BINLOG MONITOR (root has them); its password, if any, in
# MYSQL_PWD. Messages go to stderr; the summary of a backup is in DEST/livebuy-backup.txt.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
usage() { sed -n '3,13s/^# \{0,1\}//p' "$0" >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1 target=$2 restore_dir=""
shift 2
if [ "$cmd" = restore ]; then
    [ $# -ge 1 ] || usage
    restore_dir=$1
    shift
fi
db_dir="" socket="" datadir="" user=root media="" media_set=0
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case $1 in
        --db-dir) db_dir=$2 ;;
        --socket) socket=$2 ;;
        --datadir) datadir=$2 ;;
        --user) user=$2 ;;
        --media-dir) media=$2; media_set=1 ;;
        *) die "unknown option $1 (scripts/backup.sh with no arguments shows the usage)" ;;
    esac
    shift 2
done

# An absolute path for a folder that may not exist yet (mariadb-backup changes into the data folder: relative paths
# given to it would then point elsewhere).
absolute() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

# Whether a folder is absent or empty.
empty_or_absent() { [ ! -e "$1" ] || { [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; }; }

command -v mariadb-backup >/dev/null ||
    die "mariadb-backup is not installed (Debian: apt-get install mariadb-backup; scripts/deps.sh installs it)"

save() {
    local dest log
    dest=$(absolute "$target")
    empty_or_absent "$dest" || die "$dest is not empty: a backup goes into a new folder"
    if [ -n "$socket$datadir" ]; then
        [ -z "$db_dir" ] || die "--db-dir or --socket and --datadir, not both"
        { [ -n "$socket" ] && [ -n "$datadir" ]; } || die "--socket and --datadir go together"
    else
        db_dir=$(absolute "${db_dir:-.data/mariadb}")
        socket=$db_dir/mysqld.sock
        datadir=$db_dir/data
    fi
    socket=$(absolute "$socket")
    datadir=$(absolute "$datadir")
    [ -S "$socket" ] || die "no MariaDB answers on $socket: a backup is taken from a running server"
    [ -d "$datadir/mysql" ] || die "$datadir is not a MariaDB data folder (no mysql/ in it)"
    [ "$media_set" = 1 ] || media=.data/media
    media=$(absolute "$media")

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
    if [ -d "$media" ]; then
        say "copying the photos of $media"
        mkdir -p "$dest/media"
        # Files are written whole under a temporary name and renamed: the temporary ones are left out.
        (cd "$media" && tar -cf - --exclude='.*.tmp' .) | (cd "$dest/media" && tar -xf -)
        photos=$(find "$dest/media" -type f | wc -l)
    else
        say "no photo folder at $media: the backup holds the database only"
    fi

    {
        echo "livebuy backup"
        echo "taken_at: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "server: $(sed -n 's/^server_version = //p' "$dest/db/xtrabackup_info" 2>/dev/null)"
        echo "socket: $socket"
        echo "datadir: $datadir"
        echo "media: $media (photos: $photos)"
    } >"$dest/livebuy-backup.txt"
    say "backup done: $dest ($(du -sh "$dest" | cut -f1), $photos photos)"
}

restore() {
    local backup dir media_dest
    backup=$(absolute "$target")
    dir=$(absolute "$restore_dir")
    { [ -f "$backup/livebuy-backup.txt" ] && [ -d "$backup/db" ]; } ||
        die "$backup is not a backup of scripts/backup.sh save (no livebuy-backup.txt and db/)"
    grep -Eq '^backup_type = (log-applied|full-prepared)$' "$backup/db/xtrabackup_checkpoints" 2>/dev/null ||
        die "$backup/db was not prepared (a backup cut short?): take another one"
    [ -z "$db_dir$socket$datadir" ] || die "restore takes BACKUP DIR [--media-dir M]"
    if [ -d "$dir/data" ] && [ -n "$(ls -A "$dir/data")" ]; then
        die "$dir/data holds a database already: restore into a new folder (move the old one aside first)"
    fi
    if [ "$media_set" = 1 ]; then
        media_dest=$(absolute "$media")
        empty_or_absent "$media_dest" || die "$media_dest is not empty: photos are restored into a new or empty folder"
    fi

    mkdir -p "$dir"
    say "restoring the database into $dir/data"
    mariadb-backup --no-defaults --copy-back --target-dir="$backup/db" --datadir="$dir/data" >"$dir/restore.log" 2>&1 ||
        { tail -n 15 "$dir/restore.log" >&2; die "mariadb-backup --copy-back failed (all of it: $dir/restore.log)"; }
    if [ "$media_set" = 1 ]; then
        mkdir -p "$media_dest"
        if [ -d "$backup/media" ]; then
            say "restoring the photos into $media_dest"
            (cd "$backup/media" && tar -cf - .) | (cd "$media_dest" && tar -xf -)
        fi
    fi
    scripts/mariadb.sh start "$dir"
    # livebuy's databases: those with its migrations table (the backup holds the whole server).
    local name found=0
    for name in $(scripts/mariadb.sh sql "$dir" --batch --skip-column-names -e \
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'schema_migrations' ORDER BY 1"); do
        say "restored as of $(sed -n 's/^taken_at: //p' "$backup/livebuy-backup.txt"): livebuyd --db" \
            "'mysql://root@localhost/$name?socket=$dir/mysqld.sock'${media_dest:+ --media-dir $media_dest}"
        found=1
    done
    [ "$found" = 1 ] || say "restored, but the backup holds no livebuy database (no schema_migrations table)"
}

case $cmd in
    save) save ;;
    restore) restore ;;
    *) usage ;;
esac
