/* Internals of the agent module shared by its files: line framing, the JSON codec of sites and
 * resources, the client's agent processes. Not for use outside providers/agent/. */
#ifndef VCM_AGENT_INTERNAL_H
#define VCM_AGENT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "providers/agent/agent.h"

/* ---- Lines (agent_line.c) -------------------------------------------------------------------- */

/* Reads newline-terminated lines from a file descriptor. A line longer than `max` is dropped
 * whole (reported once, then skipped up to its newline) so that one bad line cannot take the
 * memory or the framing of the stream. */
typedef struct agent_reader {
        int fd;
        size_t max;
        char *buf;
        size_t start, len, cap; /* unread bytes: buf[start .. start+len) */
        bool skipping;          /* inside a line that was too long */
        bool eof;
} agent_reader;

void agent_reader_init(agent_reader *r, int fd, size_t max);
void agent_reader_done(agent_reader *r);
/* The next complete line, without its newline, NUL-terminated (valid until the next call):
 * 1 with a line, 0 when more input is needed (call agent_reader_fill), -E2BIG once for a line that
 * was too long. */
int agent_reader_next(agent_reader *r, char **ret_line, size_t *ret_len);
/* One read(2): 1 when bytes came, 0 at end of input, -EAGAIN/-EINTR, or another -errno. */
int agent_reader_fill(agent_reader *r);

/* Write `msg` as one compact line. Never raises SIGPIPE (sockets); -EPIPE when the peer is gone. */
int agent_write_msg(int fd, const json_t *msg);

/* ---- JSON codec (agent_json.c) --------------------------------------------------------------- */

/* A JSON string of `s`, with bytes that are not valid UTF-8 replaced by '?' (provider messages
 * may quote command output); json_null() for NULL. */
json_t *agent_json_str(const char *s);

json_t *agent_json_site(const vcm_site *site);
/* A repository holding only the site rebuilt from agent_json_site() (no file, no positions);
 * free with vcm_repo_free(). -EINVAL with `why` on bad input. */
int agent_site_from_json(const json_t *j, vcm_repo **ret_repo, char *why, size_t why_len);

json_t *agent_json_resource(const vcm_resource *r);
/* Add the resource `j` describes to `set`. -EINVAL with `why` (starting with `what`) on bad
 * input, -EEXIST on a duplicate key. */
int agent_resource_from_json(const json_t *j, vcm_resource_set *set, const char *what, char *why,
                             size_t why_len);

/* "EIO" for EIO; "E<n>" when the errno has no name. */
const char *agent_errno_name(int errnum, char *buf, size_t len);

/* ---- Local registry (agent_registry.c) ------------------------------------------------------ */

/* The i-th registered provider, NULL past the end (hello lists them). */
const vcm_provider *agent_registry_at(size_t i);

/* ---- Client (agent_client.c) ----------------------------------------------------------------- */

/* One agent process: spawned for a host, shared by every connection to that host. */
typedef struct agent_proc agent_proc;

/* Start the host's agent and greet it; the caller holds the one reference. */
int agent_proc_spawn(const vcm_host *host, agent_proc **ret, vcm_error *err);
/* Still fit to serve `host`: alive (checked now if idle) and started with the host's argv. */
bool agent_proc_usable(agent_proc *a, const vcm_host *host);
void agent_proc_ref(agent_proc *a);
void agent_proc_unref(agent_proc *a);
/* Its pid while alive, else 0. */
int agent_proc_pid(agent_proc *a);

/* ---- One agent per host (agent_hosts.c) ------------------------------------------------------ */

/* The live agent of `host` (spawned and greeted when there is none, or the last one died or was
 * started with another argv), with a reference for the caller. */
int agent_proc_get(const vcm_host *host, agent_proc **ret, vcm_error *err);

/* Send {"op": op, ...args} and wait for the reply. `args` is consumed (may be NULL). On success
 * *ret_result is the reply's "result" (a new reference; may be NULL). On failure `err` names the
 * host and the cause: the error the agent replied, or why the agent is gone. */
int agent_proc_call(agent_proc *a, const char *op, json_t *args, json_t **ret_result,
                    vcm_error *err);
const char *agent_proc_host(const agent_proc *a);

#endif
