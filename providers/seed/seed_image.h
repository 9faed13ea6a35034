/* The seed image: a node's NoCloud files as an ISO 9660 image labelled "cidata", with Rock Ridge
 * and Joliet names (so "meta-data" keeps its name), built in memory with libisofs.
 *
 * Deterministic: every time in the image (volume descriptor, directory records, Rock Ridge) is
 * one fixed date, owners are 0, modes fixed, files in name order; the same files give the same
 * bytes on any host at any time, so a rebuilt seed never looks like drift. Safe to call from
 * several threads (builds are serialised: libisofs itself is not). */
#ifndef VCM_SEED_IMAGE_H
#define VCM_SEED_IMAGE_H

#include <stddef.h>

#include "reconciler/seed.h"

#define VCM_SEED_LABEL "cidata"

/* The image of `n` files (names of at most 64 bytes, no '/'). *ret_buf is malloc'd. */
int vcm_seed_image_build(const vcm_seed_entry *files, size_t n, unsigned char **ret_buf,
                         size_t *ret_len);

#endif
