/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/lib/config_edit.h"

int xlb_config__move_vip(struct xlb_config *dst, struct xlb_config *src, unsigned int i)
{
	struct xlb_config_vip *grown;

	if (i >= src->n_vips)
		return -EINVAL;
	grown = realloc(dst->vips, (dst->n_vips + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	dst->vips = grown;
	dst->vips[dst->n_vips++] = src->vips[i];
	memmove(&src->vips[i], &src->vips[i + 1], (src->n_vips - i - 1) * sizeof(*src->vips));
	src->n_vips--;
	return 0;
}

void xlb_config__remove_vip(struct xlb_config *cfg, unsigned int i)
{
	struct xlb_config_vip *v = &cfg->vips[i];

	if (i >= cfg->n_vips)
		return;
	free(v->vip);
	xlb_config__hc_free(&v->health_check);
	for (unsigned int j = 0; j < v->n_backends; j++)
		free(v->backends[j].address);
	free(v->backends);
	memmove(v, v + 1, (cfg->n_vips - i - 1) * sizeof(*v));
	cfg->n_vips--;
}

int xlb_config__move_backend(struct xlb_config_vip *dst, struct xlb_config_vip *src,
			     unsigned int i)
{
	struct xlb_config_backend *grown;

	if (i >= src->n_backends)
		return -EINVAL;
	grown = realloc(dst->backends, (dst->n_backends + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	dst->backends = grown;
	dst->backends[dst->n_backends++] = src->backends[i];
	memmove(&src->backends[i], &src->backends[i + 1],
		(src->n_backends - i - 1) * sizeof(*src->backends));
	src->n_backends--;
	return 0;
}

void xlb_config__remove_backend(struct xlb_config_vip *v, unsigned int i)
{
	if (i >= v->n_backends)
		return;
	free(v->backends[i].address);
	memmove(&v->backends[i], &v->backends[i + 1],
		(v->n_backends - i - 1) * sizeof(*v->backends));
	v->n_backends--;
}

int xlb_config__find_backend(const struct xlb_config_vip *v, __u8 family, const __be32 *addr)
{
	for (unsigned int i = 0; i < v->n_backends; i++)
		if (v->backends[i].family == family &&
		    !memcmp(v->backends[i].addr, addr, family == XLB_AF_INET ? 4 : 16))
			return (int)i;
	return -1;
}

void xlb_config__keep_drained(struct xlb_config *dst, const struct xlb_config *src)
{
	dst->announce.drained = dst->announce.table && src->announce.drained;
}

int xlb_config__copy_runtime(struct xlb_config *dst, const struct xlb_config *src)
{
	struct xlb_config_interface *ifs = NULL;
	char *listen = NULL;

	if (src->n_interfaces) {
		ifs = calloc(src->n_interfaces, sizeof(*ifs));
		if (!ifs)
			return -ENOMEM;
		for (unsigned int i = 0; i < src->n_interfaces; i++) {
			ifs[i] = src->interfaces[i];
			ifs[i].name = strdup(src->interfaces[i].name);
			if (!ifs[i].name)
				goto oom;
		}
	}
	if (src->metrics.listen && !(listen = strdup(src->metrics.listen)))
		goto oom;
	for (unsigned int i = 0; i < dst->n_interfaces; i++)
		free(dst->interfaces[i].name);
	free(dst->interfaces);
	free(dst->metrics.listen);
	dst->interfaces = ifs;
	dst->n_interfaces = src->n_interfaces;
	dst->metrics = src->metrics;
	dst->metrics.listen = listen;
	return 0;
oom:
	for (unsigned int i = 0; ifs && i < src->n_interfaces; i++)
		free(ifs[i].name);
	free(ifs);
	return -ENOMEM;
}
