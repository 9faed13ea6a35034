#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *check_name(const char *s, size_t max) {
        size_t len = strlen(s);
        if (len > max)
                return "too long";
        if (len < 2 || !(s[0] >= 'a' && s[0] <= 'z'))
                return "pattern";
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
                        return "pattern";
        }
        if (s[len - 1] == '-')
                return "pattern";
        return NULL;
}

const char *check_host_name(const char *s) {
        size_t len = strlen(s), label = 0;
        if (len == 0 || len > 253)
                return "length";
        for (size_t i = 0; i <= len; i++) {
                char ch = s[i];
                if (ch == '.' || ch == 0) {
                        if (label == 0 || label > 63 || s[i - 1] == '-')
                                return "pattern";
                        label = 0;
                        continue;
                }
                if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
                        return "pattern";
                if (label == 0 && ch == '-')
                        return "pattern";
                label++;
        }
        return NULL;
}

static int b64_value(unsigned char ch) {
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        if (ch == '+')
                return 62;
        if (ch == '/')
                return 63;
        return -1;
}

/* Decodes len base64 characters (padding included) into out; returns the byte count or -1. */
static long b64_decode(const char *s, size_t len, unsigned char *out) {
        if (len == 0 || len % 4 != 0)
                return -1;
        size_t o = 0;
        for (size_t i = 0; i < len; i += 4) {
                int v[4];
                int pad = 0;
                for (int k = 0; k < 4; k++) {
                        unsigned char ch = (unsigned char)s[i + k];
                        if (ch == '=' && i + 4 == len && k >= 2) {
                                v[k] = 0;
                                pad++;
                                continue;
                        }
                        if (pad)
                                return -1; /* data after padding */
                        v[k] = b64_value(ch);
                        if (v[k] < 0)
                                return -1;
                }
                uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
                out[o++] = (unsigned char)(w >> 16);
                if (pad < 2)
                        out[o++] = (unsigned char)(w >> 8);
                if (pad < 1)
                        out[o++] = (unsigned char)w;
        }
        return (long)o;
}

bool check_ssh_key(const char *line, char *buf, size_t size) {
        static const char *const types[] = {
                "ssh-ed25519",         "ssh-rsa",
                "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
                "sk-ecdsa-sha2-nistp256@openssh.com",
        };
        const char *sp = strchr(line, ' ');
        size_t tlen = sp ? (size_t)(sp - line) : strlen(line);
        size_t t = 0;
        while (t < sizeof(types) / sizeof(types[0]) &&
               !(strlen(types[t]) == tlen && strncmp(types[t], line, tlen) == 0))
                t++;
        if (t == sizeof(types) / sizeof(types[0])) {
                snprintf(buf, size,
                         "ssh key is not an OpenSSH public key: unknown key type '%.*s' (use the "
                         "line from a .pub file, e.g. 'ssh-ed25519 AAAA... user@host')",
                         (int)(tlen > 40 ? 40 : tlen), line);
                return false;
        }
        if (!sp) {
                snprintf(buf, size, "ssh key has no key data after '%s': paste the whole line of the .pub file",
                         types[t]);
                return false;
        }
        const char *data = sp + 1;
        size_t dlen = strcspn(data, " \t\r\n");
        if (dlen > 16384) {
                snprintf(buf, size, "ssh key data is too long");
                return false;
        }
        unsigned char *blob = malloc(dlen / 4 * 3 + 3);
        if (!blob) {
                snprintf(buf, size, "out of memory");
                return false;
        }
        long n = b64_decode(data, dlen, blob);
        bool ok = false;
        if (n < 0) {
                snprintf(buf, size, "ssh key data is not valid base64: paste the whole line of the .pub file");
        } else if (n < 4) {
                snprintf(buf, size, "ssh key data is too short to be a %s key", types[t]);
        } else {
                uint32_t len = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
                if (len > (unsigned long)n - 4)
                        snprintf(buf, size, "ssh key data is truncated: paste the whole line of the .pub file");
                else if (len != strlen(types[t]) || memcmp(blob + 4, types[t], len) != 0)
                        snprintf(buf, size, "ssh key data is a '%.*s' key but the line says '%s'",
                                 (int)(len > 40 ? 40 : len), (const char *)blob + 4, types[t]);
                else
                        ok = true;
        }
        free(blob);
        return ok;
}

bool check_timezone(const char *name) {
        size_t len = strlen(name);
        if (len == 0 || len > 128 || name[0] == '/' || name[0] == '.')
                return false;
        for (size_t i = 0; i < len; i++) {
                char ch = name[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '/' || ch == '_' || ch == '-' || ch == '+' || ch == '.'))
                        return false;
                if (ch == '/' && (name[i + 1] == '/' || name[i + 1] == '.' || name[i + 1] == 0))
                        return false;
        }
        if (strstr(name, ".."))
                return false;
        char path[256];
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return false;
        struct stat st;
        char magic[4];
        bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4 &&
                  memcmp(magic, "TZif", 4) == 0;
        close(fd);
        return ok;
}

bool parse_hhmm(const char *s, bool allow_24, int *ret_minutes) {
        if (strlen(s) != 5 || s[2] != ':')
                return false;
        for (int i = 0; i < 5; i++)
                if (i != 2 && (s[i] < '0' || s[i] > '9'))
                        return false;
        int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
        if (m > 59 || h > 24 || (h == 24 && (!allow_24 || m != 0)))
                return false;
        *ret_minutes = h * 60 + m;
        return true;
}

static const char *parse_octets(const char *s, uint32_t *ret) {
        uint32_t a = 0;
        for (int i = 0; i < 4; i++) {
                if (*s < '0' || *s > '9')
                        return NULL;
                unsigned v = 0, nd = 0;
                const char *start = s;
                while (*s >= '0' && *s <= '9' && nd < 4) {
                        v = v * 10 + (unsigned)(*s++ - '0');
                        nd++;
                }
                if (v > 255 || nd > 3 || (nd > 1 && *start == '0'))
                        return NULL;
                a = a << 8 | v;
                if (i < 3 && *s++ != '.')
                        return NULL;
        }
        *ret = a;
        return s;
}

bool parse_cidr(const char *s, uint32_t *ret_addr, int *ret_prefix) {
        uint32_t a;
        s = parse_octets(s, &a);
        if (!s || *s != '/' || s[1] < '0' || s[1] > '9')
                return false;
        int p = 0;
        s++;
        if (s[0] == '0' && s[1])
                return false; /* "/08": leading zeros are not CIDR */
        for (int nd = 0; *s; s++, nd++) {
                if (*s < '0' || *s > '9' || nd >= 2)
                        return false;
                p = p * 10 + (*s - '0');
        }
        if (p > 32)
                return false;
        *ret_addr = a;
        *ret_prefix = p;
        return true;
}

bool check_portal(const char *s) {
        uint32_t a;
        s = parse_octets(s, &a);
        if (!s || *s != ':' || !s[1])
                return false;
        long port = 0;
        if (s[1] == '0')
                return false; /* no leading zeros, and port 0 is not a port */
        for (s++; *s; s++) {
                if (*s < '0' || *s > '9' || port > 65535)
                        return false;
                port = port * 10 + (*s - '0');
        }
        return port >= 1 && port <= 65535;
}
