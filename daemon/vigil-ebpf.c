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

struct _VigilEbpf {
	struct vigil_attrib *skel;
	char *cgroup;
	int cgroup_fd;
	guint64 netns; /* vigild's network namespace: the flows it sees are keyed by it */
	int flows_fd;
	int cookies_fd;
	int uids_fd;
	int stats_fd;
	guint report_source;
	GHashTable *reported; /* uid -> VigilEbpfShare last logged */
	guint64 no_slot_reported;
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
	/* at most VIGIL_ATTRIB_UIDS_MAX entries */
	while (bpf_map_get_next_key(ebpf->uids_fd, prev, &key) == 0) {
		struct vigil_attrib_uid value;
		prev = &key;
		if (bpf_map_lookup_elem(ebpf->uids_fd, &key, &value) != 0)
			continue;
		VigilEbpfShare share = {key, value.cookies, value.next, value.flows_evicted,
		                        value.cookies_refused};
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

	for (guint i = 0; i < shares->len; i++) {
		const VigilEbpfShare *now = &g_array_index(shares, VigilEbpfShare, i);
		VigilEbpfShare *last =
		    g_hash_table_lookup(ebpf->reported, GUINT_TO_POINTER(now->uid));
		if (last == NULL) {
			last = g_new0(VigilEbpfShare, 1);
			g_hash_table_insert(ebpf->reported, GUINT_TO_POINTER(now->uid), last);
		}
		if (now->flows_evicted == last->flows_evicted &&
		    now->cookies_refused == last->cookies_refused)
			continue;
		g_message("uid %u is over its share of the eBPF records (%u flows, %u sockets): "
		          "%" G_GUINT64_FORMAT " of its oldest flow records made room for newer "
		          "ones, %" G_GUINT64_FORMAT " of its sockets were not recorded, in the "
		          "last %u s; those of its connections are found through /proc",
		          now->uid, VIGIL_ATTRIB_UID_FLOWS, VIGIL_ATTRIB_UID_COOKIES,
		          now->flows_evicted - last->flows_evicted,
		          now->cookies_refused - last->cookies_refused, REPORT_INTERVAL_S);
		*last = *now;
	}
	if (no_slot != ebpf->no_slot_reported) {
		g_warning("more than %u users made sockets: %" G_GUINT64_FORMAT " records of the "
		          "others were not made in the last %u s; their connections are found "
		          "through /proc",
		          VIGIL_ATTRIB_UIDS_MAX, no_slot - ebpf->no_slot_reported,
		          REPORT_INTERVAL_S);
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
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	int err = libbpf_get_error(link);
	if (err != 0)
		return set_error_from_libbpf(error, err, what);
	int fd = bpf_iter_create(bpf_link__fd(link));
	int saved = errno;
	ssize_t n = -1;
	if (fd >= 0) {
		char buf[64];
		while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
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
	if (!attach_all(ebpf, error))
		return NULL;
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
	ebpf->stats_fd = bpf_map__fd(ebpf->skel->maps.stats);
	ebpf->reported = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	ebpf->report_source = g_timeout_add_seconds(REPORT_INTERVAL_S, report_shares, ebpf);
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
	g_clear_pointer(&ebpf->reported, g_hash_table_unref);
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

/* the kernel's 64 ns clock ticks to /proc's */
static guint64
ns_to_ticks(guint64 ns)
{
	static gint64 hz;

	if (hz == 0)
		hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? ns / (G_GUINT64_CONSTANT(1000000000) / (guint64)hz) : 0;
}

static void
task_from_kernel(VigilEbpfTask *task, const struct vigil_attrib_task *k)
{
	memset(task, 0, sizeof(*task));
	if (!(k->flags & VIGIL_ATTRIB_TASK_SET))
		return;
	task->set = TRUE;
	task->no_exe = (k->flags & VIGIL_ATTRIB_TASK_NO_EXE) != 0;
	task->tgid = k->tgid;
	task->uid = k->uid;
	task->gid = k->gid;
	/* the kernel's dev_t is major << 20 | minor */
	task->exe_dev = makedev(k->exe_dev >> 20, k->exe_dev & 0xfffff);
	task->exe_ino = k->exe_ino;
	task->exe_size = (gint64)k->exe_size;
	task->exe_ctime = (gint64)k->exe_ctime_ns;
	task->start_time = ns_to_ticks(k->start_ns);
	task->image = k->image;
	task->cgroup_id = k->cgroup_id;
	task->mnt_ns = k->mnt_ns;
	memcpy(task->comm, k->comm, VIGIL_ATTRIB_COMM_LEN);
	task->comm[VIGIL_ATTRIB_COMM_LEN] = '\0';
}

static void
record_from_sock(VigilEbpfRecord *record, const struct vigil_attrib_sock *sock)
{
	memset(record, 0, sizeof(*record));
	task_from_kernel(&record->actor, &sock->actor);
	task_from_kernel(&record->creator, &sock->creator);
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
		task_from_kernel(&record->other, &value.other);
	/* both: two sockets (one of them maybe closed long ago) wrote this flow, and either may
	 * have sent the packet; the unbound one joins as the other task, so that an old record of
	 * a trusted program under the exact address never speaks alone for a packet that a
	 * socket bound to the same port later sent (the least trusted decides) */
	if (exact && any && unbound.cookie != value.cookie && !record->other.set)
		task_from_kernel(&record->other, &unbound.sock.actor);
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

#else /* !HAVE_EBPF */

struct _VigilEbpf {
	char *cgroup;
};

/* runs the task_file iterator once: the sockets made before the programs were attached */
static gboolean
record_existing(VigilEbpf *ebpf, GError **error)
{
	struct bpf_link *link = bpf_program__attach_iter(ebpf->skel->progs.vigil_existing, NULL);
	int err = libbpf_get_error(link);
	if (err != 0)
		return set_error_from_libbpf(error, err,
		                             "recording the sockets made before vigild");
	int fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		int saved = errno;
		bpf_link__destroy(link);
		return set_error_from_libbpf(error, saved,
		                             "recording the sockets made before vigild");
	}
	char buf[64];
	ssize_t n;
	/* the program writes nothing: reading to the end runs it over every task's files */
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	int saved = errno;
	close(fd);
	bpf_link__destroy(link);
	if (n < 0)
		return set_error_from_libbpf(error, saved,
		                             "recording the sockets made before vigild");
	return TRUE;
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

GArray *
vigil_ebpf_get_shares(VigilEbpf *ebpf, guint64 *no_slot)
{
	*no_slot = 0;
	return g_array_new(FALSE, TRUE, sizeof(VigilEbpfShare));
}

#endif /* HAVE_EBPF */
