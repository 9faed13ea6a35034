/* vcm: entry point and subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "reconciler/heap.h"

static const vcm_command *const commands[] = {
        &cli_cmd_validate,
        &cli_cmd_plan,
        &cli_cmd_apply,
        &cli_cmd_reconcile,
        &cli_cmd_status,
        &cli_cmd_calendar,
        &cli_cmd_history,
        &cli_cmd_agent,
        &cli_cmd_seed,
};

static void usage(FILE *out) {
        fprintf(out, "Usage: vcm COMMAND [OPTIONS]\n\n"
                     "Declarative manager for virtual clusters: specs in git, a plan, then apply.\n\n"
                     "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
        fprintf(out, "\nRun 'vcm COMMAND --help' for a command's options.\n"
                     "Exit codes: 0 success, 1 error, 2 'plan' found changes, 64 usage error.\n");
}

int main(int argc, char **argv) {
        vcm_heap_tune(2); /* the service takes one (vcm_loop_run) */
        if (argc < 2) {
                usage(stderr);
                return 64;
        }
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (!strcmp(argv[1], "--version")) {
                printf("vcm 0.1.0\n");
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (strcmp(argv[1], commands[i]->name))
                        continue;
                vcm_cli_opts opts;
                int r = cli_parse_opts(commands[i], argc - 1, argv + 1, &opts);
                if (r > 0)
                        return 0;
                if (r < 0)
                        return 64;
                return commands[i]->run(&opts);
        }
        fprintf(stderr, "vcm: unknown command '%s'. Run 'vcm --help' for the list.\n", argv[1]);
        return 64;
}
