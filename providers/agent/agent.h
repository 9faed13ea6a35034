/* The agent: host-side providers (netlink, lvm, lio) reached over JSON lines (docs/agent.md).
 *
 * A host with `agent:` in site.yaml runs `vcm agent` (the same binary), reached by running that
 * argv (`ssh root@gw1 vcm agent`, `ip netns exec NS vcm agent`); a host without it is this host,
 * and its host-side providers run in-process. Three parts:
 *
 *  - Local registry: the host-side providers this binary carries, by name. The CLI fills it once
 *    at start (cli/providers.c); `vcm agent` serves exactly these.
 *  - Routing: vcm_agent_route(p) gives a vtable that behaves as `p` in-process for a host without
 *    `agent:` and sends every call to that host's agent otherwise. The CLI puts the routed vtable
 *    in the provider table instead of `p`; the engine cannot tell the difference.
 *  - Server: vcm_agent_serve() answers requests read from one fd on another (`vcm agent` uses
 *    stdin and stdout).
 *
 * One agent process per host serves every provider and every step for the whole life of the
 * client process: spawned on the first open, reused by later passes, restarted on the next open
 * after it died. Calls on one agent are multiplexed by request id: each request gets one reply,
 * several may be in flight, and the agent runs them on a few threads, so a slow step does not
 * hold up the others of its host. */
#ifndef VCM_AGENT_H
#define VCM_AGENT_H

#include "providers/provider.h"

#define VCM_AGENT_PROTOCOL 1                   /* the "v" of every message */
#define VCM_AGENT_LINE_MAX (64u * 1024 * 1024) /* bytes in one line, newline excluded */

/* ---- Local registry -------------------------------------------------------------------------- */

/* Register a host-side provider under p->name (idempotent; -EEXIST when another vtable has the
 * name, -ENOSPC past a small fixed number). */
int vcm_agent_register(const vcm_provider *p);
const vcm_provider *vcm_agent_lookup(const char *name);

/* ---- Routing --------------------------------------------------------------------------------- */

/* The routed vtable of a host-side provider: same name, kinds and classify; open() runs `local`
 * in-process for a host with no agent and opens a session on the host's agent otherwise. Always
 * the same pointer for the same `local` (the engine keys connections by vtable). NULL when the
 * fixed pool of routed vtables is full (a programming error: raise VCM_AGENT_ROUTED_MAX). */
const vcm_provider *vcm_agent_route(const vcm_provider *local);

/* How long the client waits: for the handshake of a new agent (ssh may be slow to connect) and
 * for the reply of any other request (a wipe of a large volume is slow). On expiry the agent is
 * killed and the call fails naming the host. Defaults: 60 s and 30 min. 0 keeps a value. */
void vcm_agent_set_timeouts(int hello_ms, int call_ms);

/* Stop every agent this process started (close their stdin, reap them). For tests and exit. */
void vcm_agent_shutdown_all(void);

/* Pid of the agent currently serving `host_name` in this process, or 0 (tests kill it). */
int vcm_agent_pid(const char *host_name);

/* ---- Server ---------------------------------------------------------------------------------- */

/* Answer requests from `in_fd` on `out_fd` until end of input, with the registered providers.
 * Writes nothing but protocol lines on out_fd. Returns 0 at end of input, a negative errno when
 * reading or writing fails (e.g. -EPIPE: the client went away). */
int vcm_agent_serve(int in_fd, int out_fd);

/* vcm_agent_serve() on this process's stdin and stdout, as `vcm agent` runs: the protocol gets
 * private copies of fds 0 and 1, which become /dev/null and a copy of stderr, so that nothing else
 * (a library, a command a provider runs) can read requests or write into the replies; SIGPIPE is
 * ignored (a vanished client is -EPIPE). Returns as vcm_agent_serve(), or -errno when the fds
 * cannot be set up. */
int vcm_agent_serve_stdio(void);

#endif
