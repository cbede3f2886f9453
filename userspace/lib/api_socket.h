/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Where xlbd serves its API and xlbctl looks for it, unless told otherwise. */
#ifndef XLB_API_SOCKET_H
#define XLB_API_SOCKET_H

#define XLB_API_SOCKET_DEFAULT "/run/xlb/xlbd.sock"

#endif /* XLB_API_SOCKET_H */
