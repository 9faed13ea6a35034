/* The service's control socket, STATE/vcm.sock: `vcm plan` asks a running `vcm reconcile
 * --watch` for the plan, which the service computes from its informer cache (kept current by
 * libvirt's events) instead of observing every host again, as `argocd app diff` asks the Argo CD
 * server. At 1,000 clusters that is the difference between one round trip per domain on every
 * host and none.
 *
 * Protocol: one request and one answer, each a JSON object on one line, over a Unix stream
 * socket. The socket file is mode 0600 in the state directory, and the service answers only
 * root and its own user (SO_PEERCRED). The service answers between passes, one request at a
 * time; a client that gets no answer in time plans by itself. */
#ifndef VCM_CONTROL_H
#define VCM_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "specs/base/diag.h"

#define VCM_CONTROL_SOCKET "vcm.sock"

typedef struct vcm_plan_request {
        char *source;       /* vcm_source_identity() of the specs the client means */
        int64_t at;         /* --at (Unix seconds); 0: now */
        bool json;          /* -o json */
        bool color;
        bool allow_empty;
} vcm_plan_request;
void vcm_plan_request_clear(vcm_plan_request *r);

typedef struct vcm_plan_answer {
        long pid;             /* the service's */
        char *declined;       /* the service cannot plan this request: why (the client plans) */
        int exit_code;        /* as `vcm plan`: 0 no changes, 2 changes, 1 errors */
        char *output;         /* the plan, printed as asked (text or JSON) */
        char *commit;         /* the specs' commit (git sources), or NULL */
        vcm_diags load_diags; /* problems loading the specs, then the pass's */
        vcm_diags pass_diags;
        void *internal;       /* client side: the parsed answer the diagnostics' files point into */
} vcm_plan_answer;
void vcm_plan_answer_clear(vcm_plan_answer *a);

/* ---- the service ---- */

/* Listen on STATE/vcm.sock. The caller holds STATE/lock, so a socket file found there is a
 * dead service's and is replaced. -errno (e.g. -ENAMETOOLONG for a long state path). */
int vcm_control_listen(const char *state_dir, int *ret_fd);
/* Close the socket and remove its file. */
void vcm_control_close(const char *state_dir, int fd);
/* Accept one waiting client and read its request (at most 2 s). 0 and the connection; -EAGAIN
 * when nobody was waiting; another -errno (the connection is closed) with *ret_error set when
 * the client is refused or sent something unreadable. */
int vcm_control_accept(int listen_fd, int *ret_conn, vcm_plan_request *ret_req, char **ret_error);
/* Send the answer (declined, or the plan) and close the connection. A client that went away
 * costs nothing (no SIGPIPE); one that stops reading is given up after 5 s. */
int vcm_control_reply(int conn, const vcm_plan_answer *a);

/* ---- the client ---- */

/* Ask the service on STATE for a plan, waiting at most timeout_ms for the answer. 0 and *ret
 * (its `declined` set when the service cannot plan this); -ENOENT or -ECONNREFUSED when no
 * service runs there (other -errno with *ret_error: it did not answer). */
int vcm_control_ask_plan(const char *state_dir, const vcm_plan_request *req, int timeout_ms,
                         vcm_plan_answer *ret, char **ret_error);

#endif
