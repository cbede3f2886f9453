/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * For profiles of the data path (scripts/profile_dp.sh): prints, for a
 * loaded BPF program, each JIT-image offset that starts a source line, as
 * "OFFSET(hex) FILE:LINE SOURCE", from the program's BTF line info. perf
 * names a sample in a BPF program by symbol+offset; this turns the offsets
 * into lines without a disassembler (Debian's perf and bpftool are built
 * without one).
 *
 * Usage: bench_lines PROG_ID. Only the program's main function (its first
 * JIT symbol); xlb inlines everything into it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), nli, njli, nks, rec, btf_id;
	struct bpf_line_info *li = NULL;
	__u64 *jli = NULL, *ks = NULL;
	struct btf *btf = NULL;
	int fd, ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_lines PROG_ID\n");
		return 2;
	}
	fd = bpf_prog_get_fd_by_id(strtoul(argv[1], NULL, 0));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "bench_lines: program %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	nli = info.nr_line_info;
	njli = info.nr_jited_line_info;
	nks = info.nr_jited_ksyms;
	rec = info.line_info_rec_size;
	btf_id = info.btf_id;
	if (!nli || !njli || !nks || !btf_id) {
		fprintf(stderr, "bench_lines: program %s has no line info\n", argv[1]);
		return 1;
	}
	li = calloc(nli, rec);
	jli = calloc(njli, sizeof(*jli));
	ks = calloc(nks, sizeof(*ks));
	if (!li || !jli || !ks)
		goto out;
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nli;
	info.line_info_rec_size = rec;
	info.line_info = (unsigned long)li;
	info.nr_jited_line_info = njli;
	info.jited_line_info_rec_size = sizeof(*jli);
	info.jited_line_info = (unsigned long)jli;
	info.nr_jited_ksyms = nks;
	info.jited_ksyms = (unsigned long)ks;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "bench_lines: line info: %s\n", strerror(errno));
		goto out;
	}
	btf = btf__load_from_kernel_by_id(btf_id);
	if (!btf) {
		fprintf(stderr, "bench_lines: BTF %u: %s\n", btf_id, strerror(errno));
		goto out;
	}
	/* jited line info i belongs to line info i; past the first symbol's
	 * end are the subprograms'.
	 */
	for (__u32 i = 0; i < nli && i < njli; i++) {
		const struct bpf_line_info *l = (const void *)li + (size_t)i * rec;
		const char *file = btf__name_by_offset(btf, l->file_name_off);
		const char *src = btf__name_by_offset(btf, l->line_off);
		const char *base = file ? strrchr(file, '/') : NULL;

		if (nks > 1 && jli[i] >= ks[1])
			break;
		printf("%llx %s:%u %s\n", (unsigned long long)(jli[i] - ks[0]),
		       base ? base + 1 : file ? file : "?", BPF_LINE_INFO_LINE_NUM(l->line_col),
		       src ? src : "");
	}
	ret = 0;
out:
	btf__free(btf);
	free(li);
	free(jli);
	free(ks);
	return ret;
}
