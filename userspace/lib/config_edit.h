/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Edits of a configuration model, as the API makes them: move a VIP or a
 * backend from a freshly loaded model into another, or drop one. Callers
 * validate the edited model with xlb_config__validate() afterwards.
 */
#ifndef XLB_CONFIG_EDIT_H
#define XLB_CONFIG_EDIT_H

#include "userspace/lib/config.h"

/* Moves src->vips[i] to the end of dst (src no longer owns it). */
int xlb_config__move_vip(struct xlb_config *dst, struct xlb_config *src, unsigned int i);
void xlb_config__remove_vip(struct xlb_config *cfg, unsigned int i);
/* Moves src->backends[i] to the end of dst. */
int xlb_config__move_backend(struct xlb_config_vip *dst, struct xlb_config_vip *src,
			     unsigned int i);
void xlb_config__remove_backend(struct xlb_config_vip *v, unsigned int i);
/* Index of the backend with this address, or -1. */
int xlb_config__find_backend(const struct xlb_config_vip *v, __u8 family, const __be32 *addr);
/* A file applied (config apply, SIGHUP) keeps the running drain: draining
 * is the operator's runtime switch (xlbctl announce drain), not the file's.
 */
void xlb_config__keep_drained(struct xlb_config *dst, const struct xlb_config *src);
/* Replaces dst's interfaces and metrics with copies of src's. */
int xlb_config__copy_runtime(struct xlb_config *dst, const struct xlb_config *src);

#endif /* XLB_CONFIG_EDIT_H */
