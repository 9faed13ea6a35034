/* Credentials and host keys for fetching over ssh://.
 *
 * Credentials, in order: the key file given (--ssh-key; its .pub next to it if present), else
 * the ssh agent (SSH_AUTH_SOCK), then ~/.ssh/id_ed25519, id_ecdsa and id_rsa. libgit2 asks again
 * after each refusal; once all were refused the fetch fails as an authentication error.
 *
 * Host keys are checked strictly, like ssh with StrictHostKeyChecking=yes: the server's key must
 * be listed for its host in STATE/known_hosts or ~/.ssh/known_hosts ("host" for port 22,
 * "[host]:port" otherwise; comma lists and * ? patterns work; hashed |1| entries are not read).
 * An unknown host or a changed key refuses the fetch with a message saying what to add. */
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "source_git_internal.h"

static void note_tried(git_auth *a, const char *what) {
        char *t = a->tried ? source_strf("%s, %s", a->tried, what) : strdup(what);
        if (t) {
                free(a->tried);
                a->tried = t;
        }
}

static const char *local_user(void) {
        struct passwd *pw = getpwuid(geteuid());
        return pw ? pw->pw_name : "root";
}

static int key_file(git_credential **out, const char *user, const char *key, git_auth *a) {
        _cleanup_free_ char *pub = source_strf("%s.pub", key);
        if (!pub)
                return -1;
        note_tried(a, key);
        return git_credential_ssh_key_new(out, user, access(pub, R_OK) == 0 ? pub : NULL, key,
                                          NULL);
}

static int credentials(git_credential **out, const char *url, const char *user_from_url,
                       unsigned int allowed, void *payload) {
        git_auth *a = payload;
        const char *user = user_from_url && *user_from_url ? user_from_url : local_user();
        if (allowed & GIT_CREDENTIAL_USERNAME)
                return git_credential_username_new(out, user);
        if (!(allowed & GIT_CREDENTIAL_SSH_KEY)) {
                a->exhausted = true;
                git_error_set_str(GIT_ERROR_SSH, "the server asks for a password or another "
                                  "method; vcm authenticates with ssh keys only");
                return GIT_EAUTH;
        }
        int n = a->attempt++;
        if (a->s->ssh_key) {
                if (n == 0)
                        return key_file(out, user, a->s->ssh_key, a);
        } else {
                if (getenv("SSH_AUTH_SOCK")) {
                        if (n == 0) {
                                note_tried(a, "ssh agent");
                                return git_credential_ssh_key_from_agent(out, user);
                        }
                        n--;
                }
                const char *home = getenv("HOME");
                static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
                for (size_t i = 0; home && i < ELEMENTSOF(names); i++) {
                        _cleanup_free_ char *key = source_strf("%s/.ssh/%s", home, names[i]);
                        if (!key || access(key, R_OK) < 0)
                                continue;
                        if (n-- == 0)
                                return key_file(out, user, key, a);
                }
        }
        a->exhausted = true;
        git_error_set_str(GIT_ERROR_SSH, a->tried ? "every key offered was refused"
                                                  : "no ssh key to offer: give --ssh-key, run an "
                                                    "ssh agent or put a key in ~/.ssh");
        return GIT_EAUTH;
}

/* ---- known hosts ---------------------------------------------------------------------------- */

static int b64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 text into out (at most cap bytes); returns the length or -1. */
static long b64_decode(const char *text, unsigned char *out, size_t cap) {
        size_t n = 0;
        unsigned acc = 0;
        int bits = 0;
        for (const char *p = text; *p && *p != '='; p++) {
                int v = b64_value(*p);
                if (v < 0)
                        return -1;
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (n == cap)
                                return -1;
                        out[n++] = (unsigned char)(acc >> bits);
                }
        }
        return (long)n;
}

/* Does the comma list of patterns name `host`? */
static bool host_listed(char *list, const char *host) {
        for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
                if (p[0] != '!' && p[0] != '|' &&
                    (!strcasecmp(p, host) ||
                     /* "[host]:port" is literal: brackets would be a class to fnmatch */
                     (p[0] != '[' && strpbrk(p, "*?") && fnmatch(p, host, FNM_CASEFOLD) == 0)))
                        return true;
        return false;
}

/* 1 when the key is listed for host, 0 when the host is listed with other keys only, -ENOENT
 * when the host is not listed at all. */
static int known_hosts_check(const char *file, const char *host, const unsigned char *key,
                             size_t key_len) {
        FILE *f = fopen(file, "re");
        if (!f)
                return -ENOENT;
        int found = -ENOENT;
        char line[16384];
        unsigned char blob[8192];
        while (found != 1 && fgets(line, sizeof(line), f)) {
                char *save = NULL;
                char *hosts = strtok_r(line, " \t\r\n", &save);
                if (!hosts || hosts[0] == '#' || hosts[0] == '@')
                        continue;
                char *type = strtok_r(NULL, " \t\r\n", &save);
                char *b64 = strtok_r(NULL, " \t\r\n", &save);
                if (!type || !b64 || !host_listed(hosts, host))
                        continue;
                long n = b64_decode(b64, blob, sizeof(blob));
                if (n == (long)key_len && !memcmp(blob, key, key_len))
                        found = 1;
                else
                        found = 0;
        }
        fclose(f);
        return found;
}

/* host and port of ssh://[user@]host[:port]/path; host as known_hosts names it. */
static char *known_hosts_name(const char *url, int *ret_port) {
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        const char *end = p + strcspn(p, "/");
        const char *at = memchr(p, '@', (size_t)(end - p));
        if (at)
                p = at + 1;
        int port = 22;
        const char *host_end = end;
        if (*p == '[') {
                const char *close = memchr(p, ']', (size_t)(end - p));
                if (close) {
                        if (close[1] == ':')
                                port = atoi(close + 2);
                        p++;
                        host_end = close;
                }
        } else {
                const char *colon = memchr(p, ':', (size_t)(end - p));
                if (colon) {
                        port = atoi(colon + 1);
                        host_end = colon;
                }
        }
        *ret_port = port;
        int len = (int)(host_end - p);
        return port == 22 ? source_strf("%.*s", len, p) : source_strf("[%.*s]:%d", len, p, port);
}

static int host_key(git_cert *cert, int valid, const char *host, void *payload) {
        git_auth *a = payload;
        if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
                return GIT_PASSTHROUGH;  /* TLS: libgit2 checks the certificate chain */
        const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
        int port = 22;
        _cleanup_free_ char *name = known_hosts_name(a->s->url, &port);
        _cleanup_free_ char *state = source_strf("%s/known_hosts", a->s->state_dir);
        const char *home = getenv("HOME");
        _cleanup_free_ char *user = home ? source_strf("%s/.ssh/known_hosts", home) : NULL;
        if (!name || !state)
                return -1;
        if (!(hk->type & GIT_CERT_SSH_RAW)) {
                a->hostkey_error = source_strf("the ssh library gave no host key for %s to "
                                               "check", name);
                return GIT_ECERTIFICATE;
        }
        int r = known_hosts_check(state, name, (const unsigned char *)hk->hostkey,
                                  hk->hostkey_len);
        if (r == -ENOENT && user)
                r = known_hosts_check(user, name, (const unsigned char *)hk->hostkey,
                                      hk->hostkey_len);
        if (r == 1)
                return 0;
        if (r == 0)
                a->hostkey_error = source_strf("the host key of %s does not match the one in "
                                               "%s or ~/.ssh/known_hosts: if the server's key "
                                               "really changed, replace the entry", name, state);
        else
                a->hostkey_error = source_strf("the host key of %s is not known: add it to %s "
                                               "(ssh-keyscan -p %d %.*s >> %s) after checking "
                                               "it", name, state, port,
                                               (int)strcspn(host, "]"), host, state);
        git_error_set_str(GIT_ERROR_SSH, a->hostkey_error);
        return GIT_ECERTIFICATE;
}

void git_auth_setup(git_auth *auth, const vcm_source *s, git_remote_callbacks *cb) {
        *auth = (git_auth){ .s = s };
        cb->credentials = credentials;
        cb->certificate_check = host_key;
        cb->payload = auth;
}

void git_auth_done(git_auth *auth) {
        free(auth->tried);
        free(auth->hostkey_error);
}
