/* Option parsing shared by the subcommands. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum {
        OPT_SOURCE = 0x100,
        OPT_AT,
        OPT_STATE_DIR,
        OPT_PARALLEL,
        OPT_ALLOW_EMPTY,
        OPT_HELP,
        OPT_FROM,
        OPT_TO,
        OPT_BASE,
        OPT_REF,
        OPT_SSH_KEY,
        OPT_WATCH,
        OPT_RESYNC,
        OPT_INTERVAL,
        OPT_DEBOUNCE,
        OPT_OUT,
        OPT_REFRESH,
};

static const struct option long_options[] = {
        { "source", required_argument, NULL, OPT_SOURCE },
        { "at", required_argument, NULL, OPT_AT },
        { "output", required_argument, NULL, 'o' },
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "parallel", required_argument, NULL, OPT_PARALLEL },
        { "allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY },
        { "help", no_argument, NULL, OPT_HELP },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "base", required_argument, NULL, OPT_BASE },
        { "ref", required_argument, NULL, OPT_REF },
        { "ssh-key", required_argument, NULL, OPT_SSH_KEY },
        { "watch", no_argument, NULL, OPT_WATCH },
        { "resync", required_argument, NULL, OPT_RESYNC },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "debounce", required_argument, NULL, OPT_DEBOUNCE },
        { "out", required_argument, NULL, OPT_OUT },
        { "refresh", no_argument, NULL, OPT_REFRESH },
        {},
};

/* "500ms", "30s", "10m", "1h", or plain seconds. */
static int parse_duration_ms(const char *s, int64_t *ret) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || v < 0)
                return -EINVAL;
        long long mult = !strcmp(end, "ms")             ? 1
                         : !*end || !strcmp(end, "s")   ? 1000
                         : !strcmp(end, "m")            ? 60000
                         : !strcmp(end, "h")            ? 3600000
                                                        : -1;
        if (mult < 0 || v > INT64_MAX / 3600000)
                return -EINVAL;
        *ret = v * mult;
        return 0;
}

int cli_parse_opts(const vcm_command *cmd, int argc, char **argv, vcm_cli_opts *ret) {
        vcm_cli_opts o = {
                .source = ".",
                .at = (int64_t)time(NULL),
                .output = VCM_OUTPUT_TEXT,
                .state_dir = "/var/lib/vcm",
                .parallel = 8,
                .color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"),
        };
        optind = 1;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
                switch (c) {
                case OPT_SOURCE:
                        o.source = optarg;
                        o.source_given = true;
                        break;
                case OPT_AT:
                        if (vcm_parse_time(optarg, &o.at) < 0) {
                                fprintf(stderr,
                                        "vcm %s: --at '%s' is not an RFC 3339 time with an offset "
                                        "(e.g. 2026-12-20T18:00:01+09:00)\n",
                                        cmd->name, optarg);
                                return -EINVAL;
                        }
                        o.at_given = true;
                        break;
                case OPT_FROM:
                case OPT_TO:
                        if (vcm_parse_time(optarg, c == OPT_FROM ? &o.from : &o.to) < 0) {
                                fprintf(stderr,
                                        "vcm %s: --%s '%s' is not an RFC 3339 time with an offset "
                                        "(e.g. 2026-12-01T00:00:00Z)\n",
                                        cmd->name, c == OPT_FROM ? "from" : "to", optarg);
                                return -EINVAL;
                        }
                        if (c == OPT_FROM)
                                o.from_given = true;
                        else
                                o.to_given = true;
                        break;
                case OPT_BASE:
                        o.base = optarg;
                        break;
                case OPT_REF:
                        o.ref = optarg;
                        break;
                case OPT_SSH_KEY:
                        o.ssh_key = optarg;
                        break;
                case OPT_OUT:
                        o.out = optarg;
                        break;
                case 'o':
                        if (!strcmp(optarg, "json"))
                                o.output = VCM_OUTPUT_JSON;
                        else if (!strcmp(optarg, "text"))
                                o.output = VCM_OUTPUT_TEXT;
                        else if (!strcmp(cmd->name, "calendar") && !strcmp(optarg, "svg"))
                                o.output = VCM_OUTPUT_SVG;
                        else if (!strcmp(cmd->name, "calendar") && !strcmp(optarg, "png"))
                                o.output = VCM_OUTPUT_PNG;
                        else {
                                fprintf(stderr, "vcm %s: -o takes 'text'%s 'json'%s, not '%s'\n",
                                        cmd->name,
                                        strcmp(cmd->name, "calendar") ? " or" : ",",
                                        strcmp(cmd->name, "calendar") ? "" : ", 'svg' or 'png'",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_STATE_DIR:
                        o.state_dir = optarg;
                        break;
                case OPT_PARALLEL: {
                        char *end;
                        long n = strtol(optarg, &end, 10);
                        if (*end || n < 1 || n > 256) {
                                fprintf(stderr, "vcm %s: --parallel takes a number from 1 to 256\n",
                                        cmd->name);
                                return -EINVAL;
                        }
                        o.parallel = (int)n;
                        break;
                }
                case OPT_ALLOW_EMPTY:
                        o.allow_empty = true;
                        break;
                case OPT_WATCH:
                        o.watch = true;
                        break;
                case OPT_REFRESH:
                        o.refresh = true;
                        break;
                case OPT_RESYNC:
                case OPT_INTERVAL:
                case OPT_DEBOUNCE: {
                        int64_t *dst = c == OPT_RESYNC     ? &o.resync_ms
                                       : c == OPT_INTERVAL ? &o.interval_ms
                                                           : &o.debounce_ms;
                        if (parse_duration_ms(optarg, dst) < 0 ||
                            (c != OPT_DEBOUNCE && *dst < 1000)) {
                                fprintf(stderr, "vcm %s: --%s takes a duration such as 500ms, "
                                                "30s, 10m or 1h%s, not '%s'\n",
                                        cmd->name,
                                        c == OPT_RESYNC     ? "resync"
                                        : c == OPT_INTERVAL ? "interval"
                                                            : "debounce",
                                        c != OPT_DEBOUNCE ? " (at least 1s)" : "", optarg);
                                return -EINVAL;
                        }
                        break;
                }
                case 'h':
                case OPT_HELP:
                        fputs(cmd->usage, stdout);
                        return 1;
                case ':':
                        fprintf(stderr, "vcm %s: option '%s' needs a value. Run 'vcm %s --help'.\n",
                                cmd->name, argv[optind - 1], cmd->name);
                        return -EINVAL;
                default:
                        fprintf(stderr, "vcm %s: unknown option '%s'. Run 'vcm %s --help'.\n",
                                cmd->name, argv[optind - 1], cmd->name);
                        return -EINVAL;
                }
        }
        o.args = argv + optind;
        o.n_args = argc - optind;
        *ret = o;
        return 0;
}
