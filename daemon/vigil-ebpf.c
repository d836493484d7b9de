/* vigil-ebpf.c: loads, attaches and reads the attribution programs of daemon/bpf/ */
#define G_LOG_DOMAIN "vigil-ebpf"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vigil-ebpf.h"
#include "vigil-fair.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* a mountinfo field unescaped: the kernel writes space, tab, newline and '\' as \ooo */
static char *
mountinfo_unescape(const char *field)
{
	GString *out = g_string_sized_new(strlen(field));

	for (const char *p = field; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			g_string_append_c(
			    out, (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0')));
			p += 3;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

char *
vigil_ebpf_cgroup2_mount(const char *mountinfo)
{
	g_return_val_if_fail(mountinfo != NULL, NULL);
	g_auto(GStrv) lines = g_strsplit(mountinfo, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		/* id parent major:minor root mount-point options [optional...] - type source ... */
		g_auto(GStrv) fields = g_strsplit(lines[i], " ", -1);
		guint n = g_strv_length(fields);
		guint dash = 6;

		while (dash < n && !g_str_equal(fields[dash], "-"))
			dash++;
		if (n < 6 || dash + 1 >= n || !g_str_equal(fields[dash + 1], "cgroup2"))
			continue;
		if (fields[4][0] != '/')
			continue;
		return mountinfo_unescape(fields[4]);
	}
	return NULL;
}

#if HAVE_EBPF

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/vigil-attrib.h"
#include "vigil-attrib.skel.h"
#include "vigil-ebpf-icmp.h"
#include "vigil-ebpf-task.h"

struct _VigilEbpf {
	struct vigil_attrib *skel;
	char *cgroup;
	int cgroup_fd;
	guint64 netns; /* vigild's network namespace: the flows it sees are keyed by it */
	int flows_fd;
	int cookies_fd;
	int uids_fd;
	int slots_fd;
	int stats_fd;
	guint report_source;
	guint fair_source;
	guint64 fair_generation; /* of vigil-fair's tables as last copied to the kernel */
	GHashTable *reported;    /* uid -> VigilEbpfShare last logged */
	guint64 no_slot_reported;
	VigilEbpfIcmp *icmp; /* closed ping and raw sockets; NULL: not loaded */
};

static int
libbpf_log(enum libbpf_print_level level, const char *format, va_list args)
{
	/* the verifier's log of a failure is long: debug only; the error says what failed */
	if (level == LIBBPF_DEBUG ||
	    g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
		return 0;
	g_autofree char *text = g_strdup_vprintf(format, args);
	g_debug("%s", g_strchomp(text)); /* libbpf names itself */
	return 0;
}

static gboolean
set_error_from_libbpf(GError **error, int err, const char *what)
{
	err = err < 0 ? -err : err;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", what, g_strerror(err));
	return FALSE;
}

static char *
default_cgroup(GError **error)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, error))
		return NULL;
	char *mount = vigil_ebpf_cgroup2_mount(text);
	if (mount == NULL)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		            "no cgroup v2 hierarchy is mounted (/proc/self/mountinfo)");
	return mount;
}

static gboolean
read_netns_cookie(guint64 *cookie, GError **error)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*cookie);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
		            "no network namespace cookie (SO_NETNS_COOKIE, Linux 5.14): %s",
		            g_strerror(saved));
		return FALSE;
	}
	close(fd);
	return TRUE;
}

#define REPORT_INTERVAL_S 10

/* for tests: a shorter idle time before a slot is given back, an iterator made to fail */
static guint slot_idle_ms = 60000;
static char *failing_iterator;

void
vigil_ebpf_set_slot_idle(guint ms)
{
	slot_idle_ms = ms;
}

void
vigil_ebpf_set_failing_iterator(const char *name)
{
	g_free(failing_iterator);
	failing_iterator = g_strdup(name);
}

/* vigil-fair's subordinate ranges into the half of `ranges` not in use, then switched to it */
static gboolean
copy_ranges(VigilEbpf *ebpf, GArray *ranges, GError **error)
{
	int ranges_fd = bpf_map__fd(ebpf->skel->maps.ranges);
	int fair_fd = bpf_map__fd(ebpf->skel->maps.fair);
	struct vigil_attrib_fair fair;
	guint32 zero = 0;
	guint n = 0;

	if (bpf_map_lookup_elem(fair_fd, &zero, &fair) != 0)
		return set_error_from_libbpf(error, errno, "reading the eBPF bucket table");
	guint32 half = (fair.active & 1) ^ 1;
	for (guint i = 0; i < ranges->len && n < VIGIL_ATTRIB_RANGES_MAX; i++) {
		const VigilFairRange *r = &g_array_index(ranges, VigilFairRange, i);
		struct vigil_attrib_range k = {0};
		guint32 index = half * VIGIL_ATTRIB_RANGES_MAX + n;

		/* uids are 32-bit: a range past them ends with them */
		if (r->start > G_MAXUINT32)
			continue;
		k.first = (guint32)r->start;
		k.last = (guint32)MIN(r->end - 1, (guint64)G_MAXUINT32);
		k.bucket = r->bucket;
		if (bpf_map_update_elem(ranges_fd, &index, &k, BPF_ANY) != 0)
			return set_error_from_libbpf(error, errno, "writing the eBPF range table");
		n++;
	}
	fair.n[half] = n;
	fair.active = half;
	if (bpf_map_update_elem(fair_fd, &zero, &fair, BPF_ANY) != 0)
		return set_error_from_libbpf(error, errno, "writing the eBPF bucket table");
	return TRUE;
}

/* the uids of /etc/passwd into `users` (each its own bucket), those no longer there out */
static gboolean
copy_users(VigilEbpf *ebpf, GArray *users, GError **error)
{
	int fd = bpf_map__fd(ebpf->skel->maps.users);
	g_autoptr(GHashTable) wanted = g_hash_table_new(NULL, NULL);
	g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(guint32));
	guint32 key;
	guint32 *prev = NULL;

	for (guint i = 0; i < users->len; i++)
		g_hash_table_add(wanted, GUINT_TO_POINTER(g_array_index(users, guint32, i)));
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		prev = &key;
		if (!g_hash_table_contains(wanted, GUINT_TO_POINTER(key)))
			g_array_append_val(gone, key);
	}
	for (guint i = 0; i < gone->len; i++)
		bpf_map_delete_elem(fd, &g_array_index(gone, guint32, i));
	for (guint i = 0; i < users->len; i++) {
		guint32 uid = g_array_index(users, guint32, i);
		if (bpf_map_update_elem(fd, &uid, &uid, BPF_ANY) != 0)
			return set_error_from_libbpf(error, errno, "writing the eBPF user table");
	}
	return TRUE;
}

/* the kernel's copy of vigil-fair's tables, when they changed since the last copy */
static gboolean
copy_fair_tables(VigilEbpf *ebpf, GError **error)
{
	g_autoptr(GArray) ranges = NULL;
	g_autoptr(GArray) users = NULL;

	if (vigil_fair_get_tables(NULL, NULL) == ebpf->fair_generation)
		return TRUE;
	guint64 generation = vigil_fair_get_tables(&ranges, &users);
	/* users first: a range's owner is then known when the range is */
	if (!copy_users(ebpf, users, error) || !copy_ranges(ebpf, ranges, error))
		return FALSE;
	ebpf->fair_generation = generation;
	g_debug("eBPF record shares: %u subordinate ranges, %u users", ranges->len, users->len);
	return TRUE;
}

static gboolean
refresh_fair_tables(gpointer data)
{
	VigilEbpf *ebpf = data;
	g_autoptr(GError) error = NULL;

	if (!copy_fair_tables(ebpf, &error))
		g_warning("%s: the eBPF record shares go by the users as they were",
		          error->message);
	return G_SOURCE_CONTINUE;
}

GArray *
vigil_ebpf_get_shares(VigilEbpf *ebpf, guint64 *no_slot)
{
	GArray *shares = g_array_new(FALSE, TRUE, sizeof(VigilEbpfShare));
	struct vigil_attrib_stats stats;
	guint32 zero = 0;
	guint32 key;
	guint32 *prev = NULL;

	g_return_val_if_fail(ebpf != NULL, shares);
	*no_slot = bpf_map_lookup_elem(ebpf->stats_fd, &zero, &stats) == 0 ? stats.no_slot : 0;
	/* at most VIGIL_ATTRIB_BUCKETS_MAX entries; one whose slot went to another is stale */
	while (bpf_map_get_next_key(ebpf->uids_fd, prev, &key) == 0) {
		struct vigil_attrib_uid value;
		struct vigil_attrib_slot slot;
		prev = &key;
		if (bpf_map_lookup_elem(ebpf->uids_fd, &key, &value) != 0 ||
		    bpf_map_lookup_elem(ebpf->slots_fd, &value.slot, &slot) != 0 ||
		    slot.epoch != value.epoch || slot.owner != key + 1)
			continue;
		VigilEbpfShare share = {key, slot.cookies, slot.made, slot.flows_evicted,
		                        slot.cookies_refused};
		g_array_append_val(shares, share);
	}
	return shares;
}

/* every 10 s: a line for each uid that went over its share since (only its own records were
 * dropped or not made: its connections go to /proc), and for uids that found no share */
static gboolean
report_shares(gpointer data)
{
	VigilEbpf *ebpf = data;
	guint64 no_slot = 0;
	g_autoptr(GArray) shares = vigil_ebpf_get_shares(ebpf, &no_slot);
	GHashTableIter iter;
	gpointer bucket;

	/* buckets whose share was given back: their counts start again from zero with the next */
	g_hash_table_iter_init(&iter, ebpf->reported);
	while (g_hash_table_iter_next(&iter, &bucket, NULL)) {
		gboolean has_share = FALSE;
		for (guint i = 0; i < shares->len && !has_share; i++)
			has_share = g_array_index(shares, VigilEbpfShare, i).uid ==
			            GPOINTER_TO_UINT(bucket);
		if (!has_share)
			g_hash_table_iter_remove(&iter);
	}
	for (guint i = 0; i < shares->len; i++) {
		const VigilEbpfShare *now = &g_array_index(shares, VigilEbpfShare, i);
		VigilEbpfShare *last =
		    g_hash_table_lookup(ebpf->reported, GUINT_TO_POINTER(now->uid));
		if (last == NULL) {
			last = g_new0(VigilEbpfShare, 1);
			g_hash_table_insert(ebpf->reported, GUINT_TO_POINTER(now->uid), last);
		}
		/* the share was given back and taken again since: counted from zero */
		if (now->flows_evicted < last->flows_evicted ||
		    now->cookies_refused < last->cookies_refused)
			memset(last, 0, sizeof(*last));
		if (now->flows_evicted == last->flows_evicted &&
		    now->cookies_refused == last->cookies_refused)
			continue;
		g_autofree char *who = now->uid == VIGIL_FAIR_UNKNOWN
		                           ? g_strdup("uids without a user (together)")
		                           : g_strdup_printf("uid %u", now->uid);
		g_message("%s is over its share of the eBPF records (%u flows, %u sockets): "
		          "%" G_GUINT64_FORMAT " of its oldest flow records made room for newer "
		          "ones, %" G_GUINT64_FORMAT " of its sockets were not recorded, in the "
		          "last %u s; those of its connections are found through /proc",
		          who, VIGIL_ATTRIB_UID_FLOWS, VIGIL_ATTRIB_UID_COOKIES,
		          now->flows_evicted - last->flows_evicted,
		          now->cookies_refused - last->cookies_refused, REPORT_INTERVAL_S);
		*last = *now;
	}
	if (no_slot != ebpf->no_slot_reported) {
		g_warning("more than %u users made sockets at once: %" G_GUINT64_FORMAT " records "
		          "of the others were not made in the last %u s; their connections are "
		          "found through /proc (a share is given back after %u s idle)",
		          VIGIL_ATTRIB_UIDS_MAX, no_slot - ebpf->no_slot_reported,
		          REPORT_INTERVAL_S, slot_idle_ms / 1000);
		ebpf->no_slot_reported = no_slot;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
attach_all(VigilEbpf *ebpf, GError **error)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} progs[] = {
	    {ebpf->skel->progs.vigil_sock_create, &ebpf->skel->links.vigil_sock_create},
	    {ebpf->skel->progs.vigil_connect4, &ebpf->skel->links.vigil_connect4},
	    {ebpf->skel->progs.vigil_connect6, &ebpf->skel->links.vigil_connect6},
	    {ebpf->skel->progs.vigil_sendmsg4, &ebpf->skel->links.vigil_sendmsg4},
	    {ebpf->skel->progs.vigil_sendmsg6, &ebpf->skel->links.vigil_sendmsg6},
	    {ebpf->skel->progs.vigil_sockops, &ebpf->skel->links.vigil_sockops},
	    {ebpf->skel->progs.vigil_sock_release, &ebpf->skel->links.vigil_sock_release},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(progs); i++) {
		/* a link, not a pinned attachment: it goes when its fd closes (vigild exits) */
		struct bpf_link *link = bpf_program__attach_cgroup(progs[i].prog, ebpf->cgroup_fd);
		int err = libbpf_get_error(link);
		if (err != 0) {
			g_autofree char *what = g_strdup_printf(
			    "attaching %s to %s", bpf_program__name(progs[i].prog), ebpf->cgroup);
			return set_error_from_libbpf(error, err, what);
		}
		*progs[i].link = link;
	}
	return TRUE;
}

/* runs iterator @prog to its end (it writes nothing: reading runs it over every item) */
static gboolean
run_iterator(struct bpf_program *prog, GError **error)
{
	g_autofree char *what = g_strdup_printf("recording the sockets made before vigild (%s)",
	                                        bpf_program__name(prog));
	struct bpf_link *link;
	if (g_strcmp0(failing_iterator, bpf_program__name(prog)) == 0) {
		/* for tests: a link the kernel refuses (a task iterator for a process fd that
		 * is none), as it refuses one it cannot make */
		union bpf_iter_link_info info = {0};
		LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info,
		            .link_info_len = sizeof(info));
		info.task.pid_fd = G_MAXUINT32;
		link = bpf_program__attach_iter(prog, &opts);
	} else {
		link = bpf_program__attach_iter(prog, NULL);
	}
	int err = libbpf_get_error(link);
	if (err != 0)
		return set_error_from_libbpf(error, err, what);
	int fd = bpf_iter_create(bpf_link__fd(link));
	int saved = errno;
	ssize_t n = -1;
	if (fd >= 0) {
		char buf[64];
		/* EAGAIN: the kernel stops a read after a million objects that wrote nothing (the
		 * files of every task add up to that on a busy machine); the next read goes on from
		 * there */
		while ((n = read(fd, buf, sizeof(buf))) > 0 ||
		       (n < 0 && (errno == EINTR || errno == EAGAIN)))
			;
		saved = errno;
		close(fd);
	}
	bpf_link__destroy(link);
	if (n < 0)
		return set_error_from_libbpf(error, saved, what);
	return TRUE;
}

/*
 * The sockets made before the programs were attached, once: their holders now (by inode,
 * from every task's files), then the UDP and TCP sockets of vigild's network namespace get
 * them as their record; the table by inode is emptied after.
 */
static gboolean
record_existing(VigilEbpf *ebpf, GError **error)
{
	gboolean ok = run_iterator(ebpf->skel->progs.vigil_existing_holders, error) &&
	              run_iterator(ebpf->skel->progs.vigil_existing_udp, error) &&
	              run_iterator(ebpf->skel->progs.vigil_existing_tcp, error);
	int fd = bpf_map__fd(ebpf->skel->maps.existing);
	guint64 key;

	while (bpf_map_get_next_key(fd, NULL, &key) == 0 && bpf_map_delete_elem(fd, &key) == 0)
		;
	return ok;
}

/* opens and loads the programs, the iterators too or not; 0 or a negative errno */
static int
open_and_load(VigilEbpf *ebpf, gboolean iterators)
{
	g_clear_pointer(&ebpf->skel, vigil_attrib__destroy);
	ebpf->skel = vigil_attrib__open();
	if (ebpf->skel == NULL)
		return -errno;
	ebpf->skel->rodata->vigil_netns = ebpf->netns;
	ebpf->skel->rodata->vigil_slot_idle_ns = (guint64)slot_idle_ms * 1000000;
	bpf_program__set_autoload(ebpf->skel->progs.vigil_existing_holders, iterators);
	bpf_program__set_autoload(ebpf->skel->progs.vigil_existing_udp, iterators);
	bpf_program__set_autoload(ebpf->skel->progs.vigil_existing_tcp, iterators);
	return vigil_attrib__load(ebpf->skel);
}

VigilEbpf *
vigil_ebpf_new(const char *cgroup, GError **error)
{
	g_autoptr(VigilEbpf) ebpf = g_new0(VigilEbpf, 1);

	ebpf->cgroup_fd = -1;
	libbpf_set_print(libbpf_log);
	ebpf->cgroup = cgroup != NULL ? g_strdup(cgroup) : default_cgroup(error);
	if (ebpf->cgroup == NULL)
		return NULL;
	ebpf->cgroup_fd = open(ebpf->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ebpf->cgroup_fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cgroup %s: %s",
		            ebpf->cgroup, g_strerror(saved));
		return NULL;
	}
	if (!read_netns_cookie(&ebpf->netns, error))
		return NULL;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		            "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
		            "CONFIG_DEBUG_INFO_BTF is needed");
		return NULL;
	}
	int err = open_and_load(ebpf, TRUE);
	/* the iterators (for the sockets made before vigild) need more of the kernel than the
	 * hooks: without them, the hooks alone */
	gboolean iterators = err == 0;
	if (err != 0)
		err = open_and_load(ebpf, FALSE);
	if (err != 0) {
		set_error_from_libbpf(error, err,
		                      "loading the eBPF programs (root, or CAP_BPF with "
		                      "CAP_PERFMON and CAP_NET_ADMIN, is needed; a locked-down "
		                      "kernel refuses them)");
		return NULL;
	}
	/* the buckets before the first record */
	if (!copy_fair_tables(ebpf, error))
		return NULL;
	if (!attach_all(ebpf, error))
		return NULL;
	/* ICMP has hooks of its own (vigil-ebpf-icmp.c); without them, TCP and UDP still */
	g_autoptr(GError) icmp_error = NULL;
	ebpf->icmp = vigil_ebpf_icmp_new(ebpf->cgroup_fd, ebpf->cgroup, &icmp_error);
	if (ebpf->icmp == NULL)
		g_warning("%s: ping and raw sockets are found through /proc only (a program that "
		          "sent and exited is unknown)",
		          icmp_error->message);
	/* after attaching: a socket made meanwhile has its record from the hooks */
	g_autoptr(GError) existing_error = NULL;
	if (!iterators)
		g_warning("the kernel refused the eBPF iterators: the sockets made before vigild "
		          "started are found through /proc");
	else if (!record_existing(ebpf, &existing_error))
		g_warning("%s: the sockets made before vigild started are found through /proc",
		          existing_error->message);
	ebpf->flows_fd = bpf_map__fd(ebpf->skel->maps.flows);
	ebpf->cookies_fd = bpf_map__fd(ebpf->skel->maps.cookies);
	ebpf->uids_fd = bpf_map__fd(ebpf->skel->maps.uids);
	ebpf->slots_fd = bpf_map__fd(ebpf->skel->maps.slots);
	ebpf->stats_fd = bpf_map__fd(ebpf->skel->maps.stats);
	ebpf->reported = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	ebpf->report_source = g_timeout_add_seconds(REPORT_INTERVAL_S, report_shares, ebpf);
	/* vigil-fair reads its files again at most once a second */
	ebpf->fair_source = g_timeout_add_seconds(1, refresh_fair_tables, ebpf);
	g_info("eBPF attribution programs attached to cgroup %s", ebpf->cgroup);
	return g_steal_pointer(&ebpf);
}

void
vigil_ebpf_free(VigilEbpf *ebpf)
{
	if (ebpf == NULL)
		return;
	if (ebpf->report_source != 0)
		g_source_remove(ebpf->report_source);
	if (ebpf->fair_source != 0)
		g_source_remove(ebpf->fair_source);
	g_clear_pointer(&ebpf->reported, g_hash_table_unref);
	g_clear_pointer(&ebpf->icmp, vigil_ebpf_icmp_free);
	/* destroying the links detaches the programs; then the maps go */
	if (ebpf->skel != NULL)
		vigil_attrib__destroy(ebpf->skel);
	if (ebpf->cgroup_fd >= 0)
		close(ebpf->cgroup_fd);
	g_free(ebpf->cgroup);
	g_free(ebpf);
}

const char *
vigil_ebpf_get_cgroup(VigilEbpf *ebpf)
{
	return ebpf->cgroup;
}

static void
record_from_sock(VigilEbpfRecord *record, const struct vigil_attrib_sock *sock)
{
	memset(record, 0, sizeof(*record));
	vigil_ebpf_task_from_kernel(&record->actor, &sock->actor);
	vigil_ebpf_task_from_kernel(&record->creator, &sock->creator);
	record->released = (sock->flags & VIGIL_ATTRIB_SOCK_RELEASED) != 0;
}

gboolean
vigil_ebpf_lookup_flow(VigilEbpf *ebpf, const VigilFlow *flow, VigilEbpfRecord *record)
{
	struct vigil_attrib_flow_key key;
	struct vigil_attrib_flow value;
	gsize len = flow->family == AF_INET6 ? 16 : 4;

	g_return_val_if_fail(ebpf != NULL && flow != NULL && record != NULL, FALSE);
	memset(&key, 0, sizeof(key));
	key.netns = ebpf->netns;
	key.family = (guint8)flow->family;
	key.protocol = flow->protocol;
	key.sport = flow->sport;
	key.dport = flow->dport;
	memcpy(key.saddr, flow->src.bytes, len);
	memcpy(key.daddr, flow->dst.bytes, len);
	gboolean exact = bpf_map_lookup_elem(ebpf->flows_fd, &key, &value) == 0;
	/* a datagram of a socket with no address of its own is recorded without one: routing
	 * chose the source address later */
	struct vigil_attrib_flow unbound;
	memset(key.saddr, 0, sizeof(key.saddr));
	gboolean any = memcmp(flow->src.bytes, key.saddr, len) != 0 &&
	               bpf_map_lookup_elem(ebpf->flows_fd, &key, &unbound) == 0;
	if (!exact && !any)
		return FALSE;
	if (!exact)
		value = unbound;
	record_from_sock(record, &value.sock);
	record->cookie = value.cookie;
	if (value.flags & VIGIL_ATTRIB_FLOW_SHARED)
		vigil_ebpf_task_from_kernel(&record->other, &value.other);
	/* both: two sockets (one of them maybe closed long ago) wrote this flow, and either may
	 * have sent the packet; the unbound one joins as the other task, so that an old record of
	 * a trusted program under the exact address never speaks alone for a packet that a
	 * socket bound to the same port later sent (the least trusted decides) */
	if (exact && any && unbound.cookie != value.cookie && !record->other.set)
		vigil_ebpf_task_from_kernel(&record->other, &unbound.sock.actor);
	return record->actor.set;
}

gboolean
vigil_ebpf_lookup_cookie(VigilEbpf *ebpf, guint64 cookie, VigilEbpfRecord *record)
{
	struct vigil_attrib_sock value;

	g_return_val_if_fail(ebpf != NULL && record != NULL, FALSE);
	if (cookie == 0 || bpf_map_lookup_elem(ebpf->cookies_fd, &cookie, &value) != 0)
		return FALSE;
	record_from_sock(record, &value);
	record->cookie = cookie;
	return record->actor.set;
}

gboolean
vigil_ebpf_lookup_icmp(VigilEbpf *ebpf, const VigilFlow *flow, guint64 inode,
                       VigilEbpfRecord *record)
{
	g_return_val_if_fail(ebpf != NULL && flow != NULL && record != NULL, FALSE);
	return ebpf->icmp != NULL &&
	       vigil_ebpf_icmp_lookup(ebpf->icmp, ebpf->netns, flow, inode, record);
}

#else /* !HAVE_EBPF */

struct _VigilEbpf {
	char *cgroup;
};

void
vigil_ebpf_set_slot_idle(guint ms)
{
}

void
vigil_ebpf_set_failing_iterator(const char *name)
{
}

VigilEbpf *
vigil_ebpf_new(const char *cgroup, GError **error)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
	            "vigild was built without eBPF (meson -Debpf=disabled, or no libbpf, clang "
	            "or bpftool at build time)");
	return NULL;
}

void
vigil_ebpf_free(VigilEbpf *ebpf)
{
	if (ebpf == NULL)
		return;
	g_free(ebpf->cgroup);
	g_free(ebpf);
}

const char *
vigil_ebpf_get_cgroup(VigilEbpf *ebpf)
{
	return ebpf->cgroup;
}

gboolean
vigil_ebpf_lookup_flow(VigilEbpf *ebpf, const VigilFlow *flow, VigilEbpfRecord *record)
{
	return FALSE;
}

gboolean
vigil_ebpf_lookup_cookie(VigilEbpf *ebpf, guint64 cookie, VigilEbpfRecord *record)
{
	return FALSE;
}

gboolean
vigil_ebpf_lookup_icmp(VigilEbpf *ebpf, const VigilFlow *flow, guint64 inode,
                       VigilEbpfRecord *record)
{
	return FALSE;
}

GArray *
vigil_ebpf_get_shares(VigilEbpf *ebpf, guint64 *no_slot)
{
	*no_slot = 0;
	return g_array_new(FALSE, TRUE, sizeof(VigilEbpfShare));
}

#endif /* HAVE_EBPF */
