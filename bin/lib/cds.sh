# shellcheck shell=bash
# Class-data sharing (AppCDS) for the short-lived launchers bin/knock and bin/knock-ca; sourced, not run.
# docs/CLIENT.md ("Start-up time") says what it does and how to clear it.
#
# certknock_cds TOOL JAR CLASSLIST JAVA sets the array certknock_cds_opts to the JVM options for TOOL:
#   - an archive of the classes TOOL loads, trusted and made for this JAR and this JDK: use it;
#   - none yet: start making one in the background (the command runs now without it; the next one uses it).
# It never fails and never prints: without a usable archive the options are empty and java starts as before.
#
# CERTKNOCK_CDS: auto (default) as above; off: no archive, nothing written; now: make the archive (if missing)
# before running, in the foreground (still silent); the tests use it.
#
# The archive is code the JVM maps into itself, so it is used only from a directory owned by this user and
# writable by nobody else, and only when the file is this user's and writable by nobody else. It is written to
# a temporary name, checked by a JVM started with -Xshare:on and -XX:+VerifySharedSpaces, and renamed into
# place, so concurrent first runs never see a half-written archive. Its name carries a key of the jar and the
# JDK (path, size, modification time and inode of the jar, of the java binary, of the JDK's lib/modules and
# release file, and of the class list): a rebuilt jar or an updated JDK gets a new archive, never an old one.
# The JVM checks the same again (its own version, and the jar's size and time) and ignores a mismatched archive.

certknock_cds_opts=()

# certknock_jit sets the array certknock_jit_opts to the launchers' compiler options (docs/CLIENT.md, "Start-up
# time"; DESIGN.md D42): a short-lived command starts fastest with the C1 compiler alone (no C2 compiling in the
# background) on one compiler thread (on two cores, a second one only takes time from the main thread and the
# bundle's second derivation thread). Any compiler option in CERTKNOCK_JAVA_OPTS replaces both, so that, for
# example, CERTKNOCK_JAVA_OPTS=-XX:TieredStopAtLevel=4 restores the JVM's default (which needs two compiler threads).
certknock_jit_opts=()

certknock_jit() {
  case " ${CERTKNOCK_JAVA_OPTS:-} " in
    *TieredStopAtLevel* | *CICompilerCount* | *TieredCompilation*) certknock_jit_opts=() ;;
    *) certknock_jit_opts=(-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1) ;;
  esac
}

certknock_cds() {
  local tool=$1 jar=$2 classlist=$3 java=$4
  certknock_cds_opts=()
  local mode=${CERTKNOCK_CDS:-auto}
  case $mode in
    auto | now) ;;
    *) return 0 ;;
  esac
  [ -f "$classlist" ] && [ -f "$jar" ] || return 0

  # The XDG base directory spec: a relative XDG_CACHE_HOME is ignored.
  local base=${XDG_CACHE_HOME:-}
  case $base in
    /*) ;;
    *) [ -n "${HOME:-}" ] || return 0; base=$HOME/.cache ;;
  esac
  local dir=$base/certknock/cds

  # Three processes at most before java (readlink, stat, stat): each costs a few milliseconds of a start that
  # this file is there to shorten (the PATH search is the shell's own hash table). The archive's own mode is
  # checked too: a file others may write could be changed through its group or other bits, whoever owns the
  # directory.
  local javabin
  case $java in
    */*) javabin=$java ;;
    *) hash -- "$java" 2>/dev/null && javabin=${BASH_CMDS[$java]:-} && [ -n "$javabin" ] || return 0 ;;
  esac
  javabin=$(readlink -f -- "$javabin" 2>/dev/null) || return 0
  local jhome=${javabin%/bin/*}
  [ ! -L "$dir" ] || return 0
  if [ ! -d "$dir" ]; then
    mkdir -p -- "$base/certknock" 2>/dev/null || return 0
    mkdir -m 0700 -- "$dir" 2>/dev/null || [ -d "$dir" ] || return 0
  fi
  local facts
  facts=$(certknock_cds_stat "$jar" "$javabin" "$jhome/lib/modules" "$jhome/release" "$classlist" "$dir") \
    || return 0
  # The last line is the directory's: trusted or nothing is used or written. The others make the key.
  certknock_cds_trusted "${facts##*$'\n'}" directory || return 0
  local key
  certknock_cds_hash "${facts%$'\n'*}" || return 0
  local archive=$dir/$tool-$key.jsa

  if [ -f "$archive" ] && [ ! -L "$archive" ] && facts=$(certknock_cds_stat "$archive") \
      && certknock_cds_trusted "$facts" regular && [ "${facts%% *}" -gt 0 ]; then
    certknock_cds_opts=(-XX:SharedArchiveFile="$archive" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
    return 0
  fi
  if [ "$mode" = now ]; then
    certknock_cds_make "$tool" "$jar" "$classlist" "$javabin" "$dir" "$archive" </dev/null >/dev/null 2>&1 || true
    if [ -s "$archive" ] && [ ! -L "$archive" ] && facts=$(certknock_cds_stat "$archive") \
        && certknock_cds_trusted "$facts" regular; then
      certknock_cds_opts=(-XX:SharedArchiveFile="$archive" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
    fi
  else
    # In the background, detached from the terminal's streams; a non-interactive shell's background job ignores
    # SIGINT, so Ctrl-C on the command does not leave a half-made archive behind (and a temporary file is all a
    # kill could leave: the next creation removes it).
    certknock_cds_make "$tool" "$jar" "$classlist" "$javabin" "$dir" "$archive" </dev/null >/dev/null 2>&1 &
  fi
  return 0
}

# certknock_cds_stat FILE...: one line per file: size, modification time, inode, device, octal mode, owner's
# uid and type (GNU stat, else BSD stat); fails when a file is missing.
certknock_cds_stat() {
  stat -L -c '%s %Y %i %d %a %u %F' -- "$@" 2>/dev/null || stat -L -f '%z %m %i %d %Lp %u %HT' -- "$@" 2>/dev/null
}

# certknock_cds_trusted "FACTS" TYPE: a line of certknock_cds_stat is of TYPE (directory or regular), owned by
# this user, and not writable by group or others. With a POSIX ACL the group bits are the ACL's mask, which
# bounds every named user's and group's access, so a write grant in an ACL shows there too.
certknock_cds_trusted() {
  local size mtime ino dev mode uid type
  read -r size mtime ino dev mode uid type <<<"$1"
  [ "$uid" = "$EUID" ] || return 1
  case $type in
    [Dd]irectory) [ "$2" = directory ] || return 1 ;;
    [Rr]egular*) [ "$2" = regular ] || return 1 ;;
    *) return 1 ;;
  esac
  case $mode in
    *[0-7][2367][0-7] | *[2367]) return 1 ;;
  esac
  return 0
}

# certknock_cds_hash "FACTS": sets key to 16 hex digits of a 64-bit FNV-style hash of the size, modification
# time, inode and device of each line of certknock_cds_stat (whole numbers, in the shell: no process, no loop
# over characters). The device and inode stand for the path.
certknock_cds_hash() {
  local h=-3750763034362895579 size mtime ino dev _
  while read -r size mtime ino dev _; do
    case $size.$mtime.$ino.$dev in
      *[!0-9.]* | *..* | .* | *.) return 1 ;; # not four whole numbers: no key, no archive
    esac
    h=$((((h ^ 10#$size) * 1099511628211 ^ 10#$mtime) * 1099511628211))
    h=$((((h ^ 10#$ino) * 1099511628211 ^ 10#$dev) * 1099511628211))
  done <<<"$1"
  printf -v key '%016x' "$h"
}

# certknock_cds_make TOOL JAR CLASSLIST JAVA DIR ARCHIVE: one creation at a time per archive (a lock file made
# with noclobber; one older than 10 minutes is a crashed creation's and is removed), the dump into a temporary
# file, a check that a JVM maps it, then an atomic rename. Removes leftovers: temporary files and archives of TOOL
# unused for 30 days (other jars or JDKs; the access time is not reliable everywhere, so the modification time).
certknock_cds_make() {
  local tool=$1 jar=$2 classlist=$3 java=$4 dir=$5 archive=$6
  local lock=$archive.lock
  find "$dir" -maxdepth 1 -name '*.lock' -mmin +10 -exec rm -f -- {} + 2>/dev/null || true
  (set -C; : >"$lock") 2>/dev/null || return 0
  local tmp=$dir/.$tool.$BASHPID.tmp
  local rc=0
  find "$dir" -maxdepth 1 \( -name '.*.tmp' -mmin +10 -o -name "$tool-*.jsa" -mtime +30 \) -exec rm -f -- {} + \
    2>/dev/null || true
  rm -f -- "$tmp"
  if nice -n 10 "$java" -Xshare:dump -XX:SharedClassListFile="$classlist" -XX:SharedArchiveFile="$tmp" \
        -cp "$jar" -Xlog:cds=off -Xlog:cds+dynamic=off \
      && [ -s "$tmp" ] \
      && "$java" -Xshare:on -XX:+VerifySharedSpaces -XX:SharedArchiveFile="$tmp" -cp "$jar" -version \
      && chmod 0400 -- "$tmp" && { sync -- "$tmp" 2>/dev/null || true; }; then
    mv -f -- "$tmp" "$archive" || rc=1
  else
    rc=1
  fi
  rm -f -- "$tmp" "$lock"
  return "$rc"
}
