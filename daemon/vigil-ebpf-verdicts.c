/* vigil-ebpf-verdicts.c: loads, attaches, writes and reads the verdict programs of daemon/bpf/ */
#define G_LOG_DOMAIN "vigil-ebpf"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vigil-ebpf-verdicts.h"
#include "vigil-ebpf.h"

#if HAVE_EBPF

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <glib-unix.h>

#include "bpf/vigil-verdicts.h"
#include "vigil-verdicts.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* what was written for a key, for the log lines of the kernel's decisions by it */
typedef struct {
	VigilVerdictInfo info; /* its strings are owned here */
	guint64 rule_id;       /* an event of another rule's verdict (an older one) is not its */
} Written;

struct _VigilEbpfVerdicts {
	struct vigil_verdicts *skel;
	int cgroup_fd;
	guint64 netns;
	int verdicts_fd;
	int state_fd;
	int stats_fd;
	struct vigil_verdict_state state;
	struct ring_buffer *ring;
	guint ring_source;
	VigilVerdictFunc func;
	gpointer user_data;
	/* struct vigil_verdict_key -> Written, of the current generation; at most
	 * VIGIL_VERDICTS_MAX (then a new generation: the kernel's table holds no more) */
	GHashTable *written;
	guint batch; /* events read in this batch (vigil_ebpf_verdicts_consume_batch) */
};

static void
written_free(Written *w)
{
	g_free((char *)w->info.program);
	g_free((char *)w->info.sha256);
	g_free((char *)w->info.hostname);
	g_free((char *)w->info.user_name);
	g_free(w);
}

static guint
key_hash(gconstpointer data)
{
	const guint8 *p = data;
	guint32 h = 2166136261u;

	for (gsize i = 0; i < sizeof(struct vigil_verdict_key); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(struct vigil_verdict_key)) == 0;
}

static gboolean
set_error_from_errno(GError **error, int err, const char *what)
{
	err = err < 0 ? -err : err;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", what, g_strerror(err));
	return FALSE;
}

static void
key_to_kernel(struct vigil_verdict_key *k, const VigilVerdictKey *key, guint64 netns)
{
	memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->exe_ino = key->exe_ino;
	/* the kernel's dev_t is major << 20 | minor */
	k->exe_dev = (guint32)(major(key->exe_dev) << 20 | (minor(key->exe_dev) & 0xfffff));
	k->uid = key->uid;
	k->exe_size = (guint64)key->exe_size;
	k->exe_ctime_ns = (guint64)key->exe_ctime;
	k->family = (guint8)key->family;
	k->protocol = key->protocol;
	k->dport = key->dport;
	memcpy(k->daddr, key->dst.bytes, key->family == AF_INET ? 4 : 16);
}

static void
key_from_kernel(VigilVerdictKey *key, const struct vigil_verdict_key *k)
{
	memset(key, 0, sizeof(*key));
	key->exe_ino = k->exe_ino;
	key->exe_dev = makedev(k->exe_dev >> 20, k->exe_dev & 0xfffff);
	key->uid = k->uid;
	key->exe_size = (gint64)k->exe_size;
	key->exe_ctime = (gint64)k->exe_ctime_ns;
	key->family = k->family;
	key->protocol = k->protocol;
	key->dport = k->dport;
	memcpy(key->dst.bytes, k->daddr, k->family == AF_INET ? 4 : 16);
}

static int
on_event(void *ctx, void *data, size_t size)
{
	VigilEbpfVerdicts *verdicts = ctx;
	const struct vigil_verdict_event *e = data;
	VigilVerdictEvent event = {0};

	if (size < sizeof(*e))
		return 0;
	key_from_kernel(&event.key, &e->key);
	event.action = e->action == VIGIL_VERDICT_ALLOW  ? VIGIL_ACTION_ALLOW
	               : e->action == VIGIL_VERDICT_DROP ? VIGIL_ACTION_DROP
	                                                 : VIGIL_ACTION_DENY;
	event.rule_id = e->rule_id;
	event.stale = e->hook == VIGIL_VERDICT_HOOK_STALE;
	event.sendmsg = e->hook != VIGIL_VERDICT_HOOK_CONNECT;
	event.tgid = e->tgid;
	event.cookie = e->cookie;
	/* the kernel's clock is CLOCK_MONOTONIC, as GLib's */
	event.time_us = g_get_real_time() - (g_get_monotonic_time() - (gint64)(e->ktime / 1000));
	memcpy(event.comm, e->comm, sizeof(e->comm));
	event.comm[sizeof(e->comm)] = '\0';
	Written *w = event.stale ? NULL : g_hash_table_lookup(verdicts->written, &e->key);
	event.info = w != NULL && w->rule_id == e->rule_id ? &w->info : NULL;
	verdicts->func(&event, verdicts->user_data);
	/* a full batch: libbpf stops here (this record is consumed), the rest waits for the
	 * next dispatch */
	return ++verdicts->batch >= VIGIL_VERDICTS_BATCH ? -1 : 0;
}

guint
vigil_ebpf_verdicts_consume_batch(VigilEbpfVerdicts *verdicts)
{
	verdicts->batch = 0;
	ring_buffer__consume(verdicts->ring);
	return verdicts->batch;
}

/* one bounded batch per dispatch: libbpf's ring_buffer__consume reads while records arrive,
 * and one user's flood of denied sendto() (an event each) would keep the main loop; the
 * ring's fd stays readable (level-triggered), so the rest comes at the next iteration, after
 * the other sources' turn */
static gboolean
on_ring_ready(gint fd, GIOCondition condition, gpointer data)
{
	vigil_ebpf_verdicts_consume_batch(data);
	return G_SOURCE_CONTINUE;
}

static gboolean
write_state(VigilEbpfVerdicts *verdicts)
{
	guint32 zero = 0;

	if (bpf_map_update_elem(verdicts->state_fd, &zero, &verdicts->state, BPF_ANY) == 0)
		return TRUE;
	/* an array entry cannot fail to be written; if it did, nothing may be decided by it */
	g_critical("writing the kernel verdicts' state: %s", g_strerror(errno));
	return FALSE;
}

static int
libbpf_log(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG ||
	    g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
		return 0;
	g_autofree char *text = g_strdup_vprintf(format, args);
	g_debug("%s", g_strchomp(text));
	return 0;
}

static gboolean
attach_all(VigilEbpfVerdicts *verdicts, const char *cgroup, GError **error)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} progs[] = {
	    {verdicts->skel->progs.vigil_verdict_connect4,
	     &verdicts->skel->links.vigil_verdict_connect4},
	    {verdicts->skel->progs.vigil_verdict_connect6,
	     &verdicts->skel->links.vigil_verdict_connect6},
	    {verdicts->skel->progs.vigil_verdict_sendmsg4,
	     &verdicts->skel->links.vigil_verdict_sendmsg4},
	    {verdicts->skel->progs.vigil_verdict_sendmsg6,
	     &verdicts->skel->links.vigil_verdict_sendmsg6},
	    {verdicts->skel->progs.vigil_verdict_sockops,
	     &verdicts->skel->links.vigil_verdict_sockops},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(progs); i++) {
		/* a link, not a pinned attachment: it goes when its fd closes (vigild exits) */
		struct bpf_link *link =
		    bpf_program__attach_cgroup(progs[i].prog, verdicts->cgroup_fd);
		int err = libbpf_get_error(link);
		if (err != 0) {
			g_autofree char *what = g_strdup_printf(
			    "attaching %s to %s", bpf_program__name(progs[i].prog), cgroup);
			return set_error_from_errno(error, err, what);
		}
		*progs[i].link = link;
	}
	return TRUE;
}

VigilEbpfVerdicts *
vigil_ebpf_verdicts_new(const char *cgroup, VigilVerdictFunc func, gpointer user_data,
                        GError **error)
{
	g_autoptr(VigilEbpfVerdicts) verdicts = g_new0(VigilEbpfVerdicts, 1);
	g_autofree char *mount = NULL;
	g_autofree char *mountinfo = NULL;
	socklen_t len = sizeof(verdicts->netns);

	verdicts->cgroup_fd = -1;
	verdicts->func = func;
	verdicts->user_data = user_data;
	verdicts->written =
	    g_hash_table_new_full(key_hash, key_equal, g_free, (GDestroyNotify)written_free);
	libbpf_set_print(libbpf_log);
	if (cgroup == NULL) {
		if (!g_file_get_contents("/proc/self/mountinfo", &mountinfo, NULL, error))
			return NULL;
		cgroup = mount = vigil_ebpf_cgroup2_mount(mountinfo);
		if (cgroup == NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			            "no cgroup v2 hierarchy is mounted (/proc/self/mountinfo)");
			return NULL;
		}
	}
	verdicts->cgroup_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (verdicts->cgroup_fd < 0) {
		g_autofree char *what = g_strdup_printf("cgroup %s", cgroup);
		set_error_from_errno(error, errno, what);
		return NULL;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &verdicts->netns, &len) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		set_error_from_errno(error, saved, "no network namespace cookie (SO_NETNS_COOKIE)");
		return NULL;
	}
	close(fd);
	verdicts->skel = vigil_verdicts__open();
	if (verdicts->skel == NULL) {
		set_error_from_errno(error, errno, "opening the eBPF verdict programs");
		return NULL;
	}
	verdicts->skel->rodata->vigil_netns = verdicts->netns;
	int err = vigil_verdicts__load(verdicts->skel);
	if (err != 0) {
		set_error_from_errno(error, err, "loading the eBPF verdict programs");
		return NULL;
	}
	verdicts->verdicts_fd = bpf_map__fd(verdicts->skel->maps.verdicts);
	verdicts->state_fd = bpf_map__fd(verdicts->skel->maps.state);
	verdicts->stats_fd = bpf_map__fd(verdicts->skel->maps.stats);
	/* disabled until vigild says otherwise: an empty state decides nothing */
	verdicts->ring =
	    ring_buffer__new(bpf_map__fd(verdicts->skel->maps.events), on_event, verdicts, NULL);
	if (verdicts->ring == NULL) {
		set_error_from_errno(error, errno, "opening the eBPF verdicts' ring buffer");
		return NULL;
	}
	if (!attach_all(verdicts, cgroup, error))
		return NULL;
	verdicts->ring_source =
	    g_unix_fd_add(ring_buffer__epoll_fd(verdicts->ring), G_IO_IN, on_ring_ready, verdicts);
	g_info("eBPF verdict programs attached to cgroup %s", cgroup);
	return g_steal_pointer(&verdicts);
}

void
vigil_ebpf_verdicts_free(VigilEbpfVerdicts *verdicts)
{
	if (verdicts == NULL)
		return;
	if (verdicts->ring_source != 0)
		g_source_remove(verdicts->ring_source);
	/* the links first: nothing is decided from here on; then what was decided is read */
	if (verdicts->ring != NULL) {
		verdicts->state.enabled = 0;
		write_state(verdicts);
		/* no new events come (disabled): the ring's end is near */
		while (vigil_ebpf_verdicts_consume_batch(verdicts) >= VIGIL_VERDICTS_BATCH)
			;
	}
	g_clear_pointer(&verdicts->ring, ring_buffer__free);
	if (verdicts->skel != NULL)
		vigil_verdicts__destroy(verdicts->skel);
	if (verdicts->cgroup_fd >= 0)
		close(verdicts->cgroup_fd);
	g_clear_pointer(&verdicts->written, g_hash_table_unref);
	g_free(verdicts);
}

guint64
vigil_ebpf_verdicts_generation(VigilEbpfVerdicts *verdicts)
{
	return verdicts->state.generation;
}

void
vigil_ebpf_verdicts_invalidate(VigilEbpfVerdicts *verdicts, gboolean enabled, guint32 mark_mask)
{
	/* the events of the old generation still find what they were written with (one bounded
	 * batch: a flood must not keep the main loop here either; later ones are logged without
	 * it, as their rule id no longer matches what is written) */
	vigil_ebpf_verdicts_consume_batch(verdicts);
	verdicts->state.generation++;
	verdicts->state.enabled = enabled ? 1 : 0;
	verdicts->state.mark_mask = mark_mask;
	write_state(verdicts);
	g_hash_table_remove_all(verdicts->written);
}

gboolean
vigil_ebpf_verdicts_put(VigilEbpfVerdicts *verdicts, const VigilVerdictKey *key, guint64 generation,
                        VigilAction action, guint32 mark, guint64 rule_id, gint64 expires_us,
                        const VigilVerdictInfo *info, GError **error)
{
	struct vigil_verdict_key k;
	struct vigil_verdict_value v = {0};

	if (generation != verdicts->state.generation || !verdicts->state.enabled)
		return TRUE;
	/* the kernel's table holds no more: the oldest go there (LRU), all of them here */
	if (g_hash_table_size(verdicts->written) >= VIGIL_VERDICTS_MAX) {
		vigil_ebpf_verdicts_invalidate(verdicts, verdicts->state.enabled,
		                               verdicts->state.mark_mask);
		return TRUE;
	}
	key_to_kernel(&k, key, verdicts->netns);
	v.generation = generation;
	v.expires_ns = expires_us > 0 ? (guint64)expires_us * 1000 : 0;
	v.rule_id = rule_id;
	v.action = action == VIGIL_ACTION_ALLOW  ? VIGIL_VERDICT_ALLOW
	           : action == VIGIL_ACTION_DROP ? VIGIL_VERDICT_DROP
	                                         : VIGIL_VERDICT_DENY;
	v.mark = mark;
	if (bpf_map_update_elem(verdicts->verdicts_fd, &k, &v, BPF_ANY) != 0)
		return set_error_from_errno(error, errno, "writing a kernel verdict");
	Written *w = g_new0(Written, 1);
	w->info.program = g_strdup(info->program);
	w->info.sha256 = g_strdup(info->sha256);
	w->info.hostname = g_strdup(info->hostname);
	w->info.user_name = g_strdup(info->user_name);
	w->rule_id = rule_id;
	g_hash_table_replace(verdicts->written, g_memdup2(&k, sizeof(k)), w);
	return TRUE;
}

void
vigil_ebpf_verdicts_get_stats(VigilEbpfVerdicts *verdicts, guint64 *decided, guint64 *ring_full)
{
	struct vigil_verdict_stats stats = {0};
	guint32 zero = 0;

	bpf_map_lookup_elem(verdicts->stats_fd, &zero, &stats);
	*decided = stats.decided;
	*ring_full = stats.ring_full;
}

#else /* !HAVE_EBPF */

struct _VigilEbpfVerdicts {
	int unused;
};

VigilEbpfVerdicts *
vigil_ebpf_verdicts_new(const char *cgroup, VigilVerdictFunc func, gpointer user_data,
                        GError **error)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
	            "vigild was built without eBPF (meson -Debpf=disabled, or no libbpf, clang "
	            "or bpftool at build time)");
	return NULL;
}

void
vigil_ebpf_verdicts_free(VigilEbpfVerdicts *verdicts)
{
	g_free(verdicts);
}

guint64
vigil_ebpf_verdicts_generation(VigilEbpfVerdicts *verdicts)
{
	return 0;
}

void
vigil_ebpf_verdicts_invalidate(VigilEbpfVerdicts *verdicts, gboolean enabled, guint32 mark_mask)
{
}

gboolean
vigil_ebpf_verdicts_put(VigilEbpfVerdicts *verdicts, const VigilVerdictKey *key, guint64 generation,
                        VigilAction action, guint32 mark, guint64 rule_id, gint64 expires_us,
                        const VigilVerdictInfo *info, GError **error)
{
	return TRUE;
}

guint
vigil_ebpf_verdicts_consume_batch(VigilEbpfVerdicts *verdicts)
{
	return 0;
}

void
vigil_ebpf_verdicts_get_stats(VigilEbpfVerdicts *verdicts, guint64 *decided, guint64 *ring_full)
{
	*decided = 0;
	*ring_full = 0;
}

#endif /* HAVE_EBPF */
