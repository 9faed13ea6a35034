# Git fixtures for tests that read specs from git: bare repositories, `git daemon` (git://) and
# sshd (ssh://) on 127.0.0.1 with free ports and generated keys. Reusable: source this file, call
# gf_init once, then what you need; gf_cleanup (run it from your EXIT trap) stops every daemon
# this file started, by its pid, and removes the fixture directory.
#
#   gf_init                      GF_DIR: a fresh directory for everything below
#   gf_repo NAME                 a work tree GF_DIR/NAME (branch main, no commits yet)
#   gf_commit WORKTREE MSG       commit everything in the work tree (author/committer from
#                                GF_AUTHOR / GF_COMMITTER, "Name <mail>"); prints the id
#   gf_bare NAME WORKTREE        a bare repository GF_DIR/NAME.git; WORKTREE's "origin"
#   gf_push WORKTREE [-f] REF    push to origin
#   gf_git_daemon                serve GF_DIR over git:// (GF_GIT_URL=git://127.0.0.1:PORT)
#   gf_sshd STATE_DIR            sshd for root with a generated host key and user key:
#                                GF_SSH_URL=ssh://root@127.0.0.1:PORT, GF_SSH_KEY (private
#                                key), the host key added to STATE_DIR/known_hosts
#   gf_https                     smart HTTP over TLS (git http-backend behind a small Python
#                                server) serving GF_DIR: GF_HTTPS_URL=https://127.0.0.1:PORT,
#                                GF_HTTPS_CA (its self-signed certificate, for SSL_CERT_FILE)
#
# Needs git; gf_sshd /usr/sbin/sshd and ssh-keygen; gf_https openssl and python3. Only
# loopback is used.

GF_PIDS=()

gf_init() {
  GF_DIR=$(mktemp -d /tmp/vcm-gitfx.XXXXXX)
  GF_AUTHOR=${GF_AUTHOR:-"Alice Author <alice@example.org>"}
  GF_COMMITTER=${GF_COMMITTER:-"Carol Committer <carol@example.org>"}
}

gf_cleanup() {
  local p
  for p in "${GF_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${GF_PIDS[@]}"; do
    # wait only works for children; poll for the others
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  GF_PIDS=()
  [ -n "${GF_DIR:-}" ] && rm -rf "$GF_DIR"
  return 0
}

# A TCP port nobody listens on at the moment (the kernel picks it).
gf_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

gf_git() {
  local wt=$1; shift
  local an=${GF_AUTHOR% <*} ae=${GF_AUTHOR#*<} cn=${GF_COMMITTER% <*} ce=${GF_COMMITTER#*<}
  GIT_AUTHOR_NAME=$an GIT_AUTHOR_EMAIL=${ae%>} GIT_COMMITTER_NAME=$cn \
    GIT_COMMITTER_EMAIL=${ce%>} git -C "$wt" -c init.defaultBranch=main \
    -c protocol.file.allow=always "$@"
}

gf_repo() {
  local wt=$GF_DIR/$1
  mkdir -p "$wt"
  gf_git "$wt" init -q -b main
  echo "$wt"
}

gf_commit() {
  local wt=$1 msg=$2
  gf_git "$wt" add -A
  gf_git "$wt" commit -q --allow-empty -m "$msg"
  gf_git "$wt" rev-parse HEAD
}

gf_bare() {
  local name=$1 wt=$2
  git init -q --bare -b main "$GF_DIR/$name.git"
  gf_git "$wt" remote add origin "$GF_DIR/$name.git"
  echo "$GF_DIR/$name.git"
}

gf_push() {
  local wt=$1; shift
  gf_git "$wt" push -q origin "$@"
}

# Wait until something listens on 127.0.0.1:PORT (or the pid died).
gf_wait_port() {
  local port=$1 pid=$2
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

gf_git_daemon() {
  local port
  port=$(gf_free_port)
  git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --base-path="$GF_DIR" \
    --export-all --informative-errors "$GF_DIR" >"$GF_DIR/git-daemon.log" 2>&1 &
  GF_PIDS+=($!)
  gf_wait_port "$port" $! || { cat "$GF_DIR/git-daemon.log" >&2; return 1; }
  GF_GIT_URL=git://127.0.0.1:$port
}

gf_sshd() {
  local state=$1 port d=$GF_DIR/sshd
  mkdir -p "$d" "$state"
  chmod 700 "$d"
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  ssh-keygen -q -t ed25519 -N '' -C vcm-test -f "$d/user_key"
  cp "$d/user_key.pub" "$d/authorized_keys"
  port=$(gf_free_port)
  mkdir -p /run/sshd  # privilege separation directory sshd insists on
  cat > "$d/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile $d/sshd.pid
CONF
  /usr/sbin/sshd -D -e -f "$d/sshd_config" >"$d/sshd.log" 2>&1 &
  GF_PIDS+=($!)
  gf_wait_port "$port" $! || { cat "$d/sshd.log" >&2; return 1; }
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host_key.pub")" >> "$state/known_hosts"
  GF_SSH_URL=ssh://root@127.0.0.1:$port
  GF_SSH_KEY=$d/user_key
  GF_SSH_PORT=$port
}

gf_https() {
  local port d=$GF_DIR/https
  mkdir -p "$d/cgi-bin"
  # P-256, not ed25519: libgit2's mbedTLS 2.28 has no ed25519; a DNS name of 127.0.0.1 too,
  # since mbedTLS matches names, not IP addresses.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$d/key.pem" -out "$d/cert.pem" -subj /CN=127.0.0.1 \
    -addext "subjectAltName=DNS:127.0.0.1,IP:127.0.0.1" 2>/dev/null
  cat > "$d/cgi-bin/git" <<SH
#!/bin/sh
GIT_PROJECT_ROOT=$GF_DIR GIT_HTTP_EXPORT_ALL=1 exec git http-backend
SH
  chmod +x "$d/cgi-bin/git"
  cat > "$d/serve.py" <<'PY'
import http.server, os, ssl, sys, warnings
warnings.simplefilter("ignore")
os.chdir(sys.argv[1])
class Handler(http.server.CGIHTTPRequestHandler):
    cgi_directories = ["/cgi-bin"]
    have_fork = False  # a forked CGI would write past TLS, straight to the socket
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("cert.pem", "key.pem")
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
  port=$(gf_free_port)
  python3 "$d/serve.py" "$d" "$port" >"$d/serve.log" 2>&1 &
  GF_PIDS+=($!)
  gf_wait_port "$port" $! || { cat "$d/serve.log" >&2; return 1; }
  GF_HTTPS_URL=https://127.0.0.1:$port/cgi-bin/git
  GF_HTTPS_CA=$d/cert.pem
}
