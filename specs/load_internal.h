/* Shared between the loader's files; not part of the public API. */
#ifndef VCM_LOAD_INTERNAL_H
#define VCM_LOAD_INTERNAL_H

#include "fields.h"
#include "model.h"

/* Checks apiVersion and kind and returns the metadata and spec mappings (NULL when missing). */
void load_header(spec_ctx *c, const ynode *root, const char *kind, const char *where,
                 const ynode **ret_metadata, const ynode **ret_spec);

/* Each fills *out as far as the spec allows; errors go to c (c->n_errors counts them). */
void load_cluster(spec_ctx *c, const ynode *root, vcm_cluster *out);
void load_site(spec_ctx *c, const ynode *root, vcm_site *out);
void load_roll(spec_ctx *c, const ynode *root, vcm_roll *out);

/* Reports a name that breaks ^[a-z][a-z0-9-]*[a-z0-9]$ or VCM_NAME_MAX; what: "cluster name". */
void check_model_name(spec_ctx *c, const ynode *n, const char *what, const char *name);

/* Free what the structures own, not the structures themselves. */
void cluster_done(vcm_cluster *c);
void site_done(vcm_site *s);
void roll_done(vcm_roll *r);

#endif
