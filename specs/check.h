/* Value checks shared by the per-kind loaders. Each returns NULL when the value is fine, or a
 * static message fragment saying what is wrong. */
#ifndef VCM_CHECK_H
#define VCM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ^[a-z][a-z0-9-]*[a-z0-9]$ and at most max characters. */
const char *check_name(const char *s, size_t max);
/* DNS-style lower-case host name: labels of [a-z0-9-], not starting or ending with '-'. */
const char *check_host_name(const char *s);
/* "TYPE BASE64 [COMMENT]" with a known type that matches the type inside the decoded blob.
 * Writes a message into buf on failure and returns false. */
bool check_ssh_key(const char *line, char *buf, size_t size);
/* An IANA zone that exists under /usr/share/zoneinfo (read safely: no "..", no absolute paths,
 * a regular file starting with "TZif"). */
bool check_timezone(const char *name);
/* "HH:MM", 00:00..23:59, or "24:00" when allow_24. */
bool parse_hhmm(const char *s, bool allow_24, int *ret_minutes);
/* "a.b.c.d/p" with nothing else. */
bool parse_cidr(const char *s, uint32_t *ret_addr, int *ret_prefix);
/* "IPv4:PORT". */
bool check_portal(const char *s);

#endif
