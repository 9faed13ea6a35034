/* vcm agent: serve this host's host-side providers (netlink, lvm, lio) to a vcm on another host,
 * over JSON lines on stdin and stdout (docs/agent.md). Run by the command a site gives for the
 * host, e.g. `ssh root@gw1 vcm agent`; not meant to be run by people, but safe to try by hand:
 * type {"v":1,"id":1,"op":"hello"}. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "providers/agent/agent.h"

static int run_agent(vcm_cli_opts *opts) {
        if (opts->n_args > 0) {
                fprintf(stderr, "vcm agent: unexpected argument '%s'\n", opts->args[0]);
                return 64;
        }
        cli_register_host_providers();
        int r = vcm_agent_serve_stdio();
        if (r < 0) {
                fprintf(stderr, "vcm agent: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

const vcm_command cli_cmd_agent = {
        .name = "agent",
        .summary = "serve this host's providers over stdin/stdout (run by vcm itself)",
        .usage = "Usage: vcm agent\n\n"
                 "Serve this host's host-side providers (VLAN links and bridges, LVM volumes,\n"
                 "LIO iSCSI targets) to the vcm that runs the reconcile loop, which starts this\n"
                 "command through the host's 'agent:' entry in site.yaml, for example\n"
                 "  agent: [ssh, root@gw1, vcm, agent]\n"
                 "Requests and replies are JSON lines on stdin and stdout (protocol 1, see\n"
                 "docs/agent.md); diagnostics go to stderr. Exits 0 at end of input.\n",
        .run = run_agent,
};
