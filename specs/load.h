/* Loading a spec repository into the typed model (specs/model.h) and validating it.
 *
 * Loading never stops at the first problem: every problem found goes to `diags` with the
 * position of the offending value, and whatever loaded cleanly is still returned, so that one
 * cluster's broken file never hides the others (safety rule 2). */
#ifndef VCM_LOAD_H
#define VCM_LOAD_H

#include <stddef.h>

#include "base/diag.h"
#include "model.h"

/* One file of a spec tree, already read (a directory walk or a git tree). `path` is relative to
 * the repository root, with '/' separators: "site.yaml", "clusters/a.yaml", "rolls/base.yaml". */
typedef struct vcm_source_file {
        const char *path;
        const char *data;
        size_t len;
} vcm_source_file;

/* Hard limits that keep hostile input bounded. */
#define VCM_SPEC_FILE_MAX (4u << 20)  /* bytes per file */
#define VCM_SPEC_DEPTH_MAX 64         /* nesting of mappings and sequences */
#define VCM_SPEC_NODES_MAX 200000     /* YAML nodes per file, aliases expanded */
/* YAML aliases (*name) and tags (!!int) are refused outright with a located error: specs never
 * need them, and refusing aliases bounds "billion laughs" inputs by the file size. */

/* Parse and check files one by one and build the model. Every per-file rule is checked here; a
 * cluster file with any error is left out of repo->clusters and listed in repo->failed_files. The
 * same cluster name in two files is reported here too (the first file by path keeps it). Rules
 * that span files are vcm_validate_repo's; diags come back sorted. Files outside the three places
 * (site.yaml, clusters/, rolls/) and not ending in .yaml/.yml are ignored. Returns 0 with a repo
 * (possibly partial, with errors in diags) or a negative errno when nothing could be built. */
int vcm_load_files(const vcm_source_file *files, size_t n_files, vcm_diags *diags,
                   vcm_repo **ret_repo);

/* Read a directory tree and load it. -ENOENT/-ENOTDIR etc. when the directory cannot be read. */
int vcm_load_dir(const char *dir, vcm_diags *diags, vcm_repo **ret_repo);

/* Rules that span files: cluster names unique, Rolls and appliances exist, fixed VLAN ids in the
 * site range and unique, the site has hosts for every role a cluster needs. */
void vcm_validate_repo(const vcm_repo *repo, vcm_diags *diags);

/* Moves every cluster that has an error positioned in its own file (such as the cross-file errors
 * of vcm_validate_repo) from repo->clusters to repo->failed_files, so that later stages only see
 * clusters that are valid as a whole. Returns 0 or -ENOMEM (then the repo is unchanged). */
int vcm_repo_drop_invalid(vcm_repo *repo, const vcm_diags *diags);

/* Parse "512MiB", "4GiB", "1TiB" into bytes. Returns 0 or -EINVAL with a hint in ret_hint
 * (static string) for near misses such as "4G" or "4GB". */
int vcm_parse_size(const char *text, uint64_t *ret_bytes, const char **ret_hint);

/* Parse an RFC 3339 time with an offset into Unix seconds. -EINVAL when malformed or when the
 * offset is missing. */
int vcm_parse_time(const char *text, int64_t *ret_seconds);

#endif
