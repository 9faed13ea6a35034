/* The vcm command line: shared option parsing and the subcommands. */
#ifndef VCM_CLI_H
#define VCM_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "reconciler/engine.h"
#include "specs/load.h"
#include "specs/source.h"

typedef enum vcm_output {
        VCM_OUTPUT_TEXT,
        VCM_OUTPUT_JSON,
        VCM_OUTPUT_SVG,         /* calendar only */
        VCM_OUTPUT_PNG,         /* calendar only */
} vcm_output;

/* Options every subcommand understands; each command uses the ones it needs. */
typedef struct vcm_cli_opts {
        const char *source;     /* --source: a directory, a git URL or repository path */
        const char *ref;        /* --ref: branch or tag of a git source */
        const char *ssh_key;    /* --ssh-key: private key for ssh:// sources */
        int64_t at;             /* --at: evaluate at this instant; default now */
        bool at_given;
        int64_t from, to;       /* --from / --to (calendar); valid when *_given */
        bool from_given, to_given;
        const char *base;       /* --base REF (validate): report only what REF lacks */
        const char *out;        /* --out DIR (seed) */
        vcm_output output;      /* -o text|json */
        const char *state_dir;  /* --state-dir; default /var/lib/vcm */
        int parallel;           /* --parallel N */
        bool allow_empty;       /* --allow-empty */
        bool source_given;      /* --source was on the command line */
        bool watch;             /* --watch (reconcile) */
        bool refresh;           /* --refresh (plan): observe every host, not the service's cache */
        int64_t resync_ms;      /* --resync (reconcile); 0: default */
        int64_t interval_ms;    /* --interval (reconcile, unwatched sources); 0: default */
        int64_t debounce_ms;    /* --debounce (reconcile); 0: default */
        bool color;             /* stdout is a terminal and NO_COLOR unset */
        char **args;            /* positional arguments */
        int n_args;
} vcm_cli_opts;

typedef struct vcm_command {
        const char *name;
        const char *summary;
        const char *usage;      /* full --help text */
        int (*run)(vcm_cli_opts *opts);
} vcm_command;

/* Parse argv after the subcommand name. Returns 0, or -EINVAL after printing the problem. A
 * --help request prints the command's usage and returns 1. */
int cli_parse_opts(const vcm_command *cmd, int argc, char **argv, vcm_cli_opts *ret);

/* Load the source named by opts (default "."), printing every diagnostic with the source
 * prefixed to file names. Returns 0 with a repo (maybe with errors: see *ret_errors). */
int cli_load_source(const vcm_cli_opts *opts, vcm_repo **ret_repo, size_t *ret_errors);
void cli_print_diags(const vcm_cli_opts *opts, const vcm_diags *d);
/* After the diagnostics of a pass's specs: what N errors mean for the pass (nothing when 0). */
void cli_print_spec_errors(size_t errors);
/* Diagnostics printed from now on name files as "SOURCE@COMMIT:FILE" (a git source's). */
void cli_source_commit(const vcm_cli_opts *opts, const char *commit);
/* Open the source of opts (--source, --ref, --ssh-key; git clones go to STATE/sources),
 * printing the problem on failure. */
int cli_open_source(const vcm_cli_opts *opts, vcm_source **ret);
/* After a successful vcm_source_load: diagnostics name the commit (URL@abc1234:FILE), and a
 * rewritten history is reported. */
void cli_source_loaded(const vcm_cli_opts *opts, const vcm_source *src);
/* cli_load_source, keeping the source open (for its history). */
int cli_load_source_keep(const vcm_cli_opts *opts, vcm_source **ret_source, vcm_repo **ret_repo,
                         size_t *ret_errors);
static inline void cli_source_freep(vcm_source **s) {
        vcm_source_free(*s);
}

/* The libvirt provider, loaded from its module on first use (cli/libvirt_module.c): NULL with
 * *ret_error saying where it was looked for when it cannot be loaded. */
const vcm_provider *cli_libvirt_provider(const char **ret_error);
/* vcm_libvirt_events_init() of the module; -ENOENT when it cannot be loaded. */
int cli_libvirt_events_init(void);

/* The providers that implement each kind for this site's backends. */
int cli_provider_table(const vcm_site *site, vcm_provider_table *ret, const char **ret_error);
/* Register the host-side providers this binary carries with the agent (providers/agent/agent.h):
 * what `vcm agent` serves. Idempotent. */
void cli_register_host_providers(void);

/* Load the source and run one engine pass (plan only, or plan and apply). Prints load and plan
 * diagnostics. On success the caller owns *ret_repo and *ret_pass. */
int cli_engine_pass(vcm_cli_opts *opts, bool plan_only, vcm_engine_opts *eopts,
                    vcm_repo **ret_repo, vcm_pass **ret_pass);
static inline void cli_pass_freep(vcm_pass **p) {
        vcm_pass_free(*p);
}

extern const vcm_command cli_cmd_validate;
extern const vcm_command cli_cmd_plan;
extern const vcm_command cli_cmd_apply;
extern const vcm_command cli_cmd_status;
extern const vcm_command cli_cmd_calendar;
extern const vcm_command cli_cmd_history;
extern const vcm_command cli_cmd_agent;
extern const vcm_command cli_cmd_reconcile;
extern const vcm_command cli_cmd_seed;

#endif
