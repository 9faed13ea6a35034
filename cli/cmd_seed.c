/* vcm seed CLUSTER NODE [--out DIR]: a node's first-boot seed files (meta-data, user-data,
 * network-config) as vcm renders them for the node's seed disk, plus the disk image itself
 * (seed.iso) with --out, for people to read and check before they apply. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "providers/seed/seed_image.h"
#include "reconciler/seed.h"

/* Write a whole file (temp name, then rename); -errno. */
static int write_file(const char *dir, const char *name, const void *buf, size_t len) {
        char path[4096], tmp[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        int r = -errno;
                        close(fd);
                        unlink(tmp);
                        return r;
                }
                p += n;
                len -= (size_t)n;
        }
        if (close(fd) < 0 || rename(tmp, path) < 0) {
                int r = -errno;
                unlink(tmp);
                return r;
        }
        return 0;
}

static int write_seed(const char *dir, const vcm_seed *s) {
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "vcm seed: cannot create %s: %s\n", dir, strerror(errno));
                return 1;
        }
        vcm_seed_entry files[VCM_SEED_N_FILES];
        vcm_seed_entries(s, files);
        for (size_t i = 0; i < VCM_SEED_N_FILES; i++) {
                int r = write_file(dir, files[i].name, files[i].content, strlen(files[i].content));
                if (r < 0) {
                        fprintf(stderr, "vcm seed: cannot write %s/%s: %s\n", dir, files[i].name,
                                strerror(-r));
                        return 1;
                }
        }
        unsigned char *img = NULL;
        size_t len = 0;
        int r = vcm_seed_image_build(files, VCM_SEED_N_FILES, &img, &len);
        if (r == 0)
                r = write_file(dir, "seed.iso", img, len);
        free(img);
        if (r < 0) {
                fprintf(stderr, "vcm seed: cannot write %s/seed.iso: %s\n", dir, strerror(-r));
                return 1;
        }
        printf("wrote %s/{meta-data,user-data,network-config,seed.iso} (digest %016llx)\n", dir,
               (unsigned long long)s->digest);
        return 0;
}

static int run_seed(vcm_cli_opts *opts) {
        if (opts->n_args != 2) {
                fprintf(stderr, "vcm seed: give a cluster and a node, e.g. 'vcm seed demo "
                                "compute-0 --out DIR'. Run 'vcm seed --help'.\n");
                return 64;
        }
        const char *cname = opts->args[0], *node = opts->args[1];
        _cleanup_repo_ vcm_repo *repo = NULL;
        size_t errors = 0;
        if (cli_load_source(opts, &repo, &errors) < 0)
                return 1;
        const vcm_cluster *c = vcm_repo_find_cluster(repo, cname);
        if (!c) {
                fprintf(stderr, "vcm seed: no cluster '%s' in %s%s\n", cname, opts->source,
                        errors ? " (some files did not load: see above)" : "");
                return 1;
        }
        if (errors) {
                fprintf(stderr, "vcm seed: the specs have errors (above): fix them first, the "
                                "seed would not be the one vcm applies\n");
                return 1;
        }
        vcm_seed s = { 0 };
        int r = vcm_seed_render_node(repo, c, node, &s);
        if (r == -ENOENT) {
                fprintf(stderr, "vcm seed: cluster %s has no node '%s' (nodes: frontend, "
                                "<group>-<index>)\n", cname, node);
                return 1;
        }
        if (r == -ERANGE) {
                fprintf(stderr, "vcm seed: %s:%d:%d: subnet %s has no address for node %s\n",
                        c->network.subnet_pos.file ? c->network.subnet_pos.file : c->file,
                        c->network.subnet_pos.line, c->network.subnet_pos.column,
                        c->network.subnet, node);
                return 1;
        }
        if (r < 0) {
                fprintf(stderr, "vcm seed: cluster %s node %s: %s\n", cname, node, strerror(-r));
                return 1;
        }
        int ret = 0;
        if (opts->out) {
                ret = write_seed(opts->out, &s);
        } else {
                vcm_seed_entry files[VCM_SEED_N_FILES];
                vcm_seed_entries(&s, files);
                for (size_t i = 0; i < VCM_SEED_N_FILES; i++)
                        printf("%s==> %s <==\n%s", i ? "\n" : "", files[i].name, files[i].content);
        }
        vcm_seed_clear(&s);
        return ret;
}

const vcm_command cli_cmd_seed = {
        .name = "seed",
        .summary = "a node's first-boot seed files (NoCloud), for people to read",
        .usage = "Usage: vcm seed CLUSTER NODE [--source DIR] [--out DIR]\n"
                 "\n"
                 "Render the NoCloud seed vcm gives NODE of CLUSTER on its seed disk: meta-data\n"
                 "(instance id, host name <node>.<cluster>, appliance), user-data (#cloud-config:\n"
                 "the cluster's ssh keys and the merge of its Rolls for the node's appliance) and\n"
                 "network-config (static private address; DHCP on the frontend's external NIC).\n"
                 "The merge order and conflict rule are in docs/rolls.md. NODE is 'frontend' or\n"
                 "'<group>-<index>'.\n"
                 "\n"
                 "Options:\n"
                 "  --source DIR   the spec repository (default .)\n"
                 "  --out DIR      write the three files and the disk image seed.iso into DIR\n"
                 "                 (created if missing); without it the files are printed\n"
                 "\n"
                 "Exit: 0 written, 1 spec errors, unknown cluster or node, or a write failed,\n"
                 "64 usage error.\n",
        .run = run_seed,
};
