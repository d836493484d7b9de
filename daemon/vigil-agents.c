/* vigil-agents.c: registered prompt agents per uid; Prompt/Cancel/Notify sent point to point */
#define G_LOG_DOMAIN "vigil-agents"
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-agents.h"
#include "vigil-dbus.h"
#include "vigil-fair.h"
#include "vigil-fair-pool.h"
#include "vigil-polkit.h"
#include "vigil-program-path.h"
#include "vigil-process-taint.h"
#include "vigil-conn-dict.h"

/*
 * Threads that read the environments of agents' processes: each read waits for the process's
 * mmap lock, which it may hold for ever. One per user at a time, two more waiting, a few users
 * at once; root keeps its own (vigil-fair-pool.h).
 */
#define CHECK_THREADS   4
#define CHECK_PER_USER  1
#define CHECK_QUEUE_MAX 2

/* agents must answer at once (the user answers later, with Reply) */
#define AGENT_CALL_TIMEOUT_MS (VIGIL_AGENTS_CALL_TIMEOUT_S * 1000)

/* dbus-daemon's max_replies_per_connection on the system bus: vigild's calls that wait for a
 * reply, all together; polkit's checks must always find room beside the agents' calls */
#define BUS_MAX_REPLIES 128
G_STATIC_ASSERT(VIGIL_POLKIT_MAX_IN_FLIGHT + VIGIL_AGENTS_MAX_CALLS + VIGIL_AGENTS_CALLS_SPARE <=
                BUS_MAX_REPLIES);
G_STATIC_ASSERT(VIGIL_AGENTS_MAX_CALLS_PER_AGENT <= VIGIL_AGENTS_MAX_CALLS_PER_USER);
G_STATIC_ASSERT(VIGIL_AGENTS_MAX_CALLS_PER_USER <= VIGIL_AGENTS_MAX_CALLS);

typedef struct _Gate Gate;
typedef struct _Registration Registration;

static void registration_unref(Registration *reg);

/* an agent's calls in flight; the table's key is @name */
typedef struct {
	char *name;
	guint n;
} AgentCount;

/* a Prompt call to an agent: waiting for room, or in flight */
typedef struct {
	Gate *gate;
	char *name;
	char *path;
	guint32 bucket; /* the agent's user's (vigil-fair.h): whose share it takes */
	guint64 request;
	GVariant *params;
	VigilAgentsPromptFailed failed;
	gpointer user_data;
	GList link; /* in gate->waiting while it waits */
} AgentCall;

/*
 * vigild's Prompt calls to agents, which wait for a reply, within bounds (vigil-agents.h):
 * the rest wait here, in order, and go out as replies come (or time out). Shared with the
 * calls in flight, which may end after vigil_agents_free().
 */
struct _Gate { /* reference counted (g_rc_box, main loop only) */
	GDBusConnection *connection;
	GCancellable *cancellable;
	gboolean closed; /* the agents are gone: nothing more is sent */
	guint in_flight;
	GHashTable *per_bucket; /* bucket -> calls in flight (> 0) */
	GHashTable *per_agent;  /* unique name -> AgentCount, while it has calls in flight */
	GQueue waiting;         /* of AgentCall, oldest first */
	guint64 held_back;      /* calls that had to wait (a count, for the log) */
};

typedef struct {
	char *name; /* unique bus name */
	char *path;
	guint32 uid;
	guint32 bucket; /* of @uid when it registered (vigil-fair.h) */
	guint watch_id;
	guint64 serial; /* registration order */
} Agent;

struct _VigilAgents {
	GDBusConnection *connection;
	GHashTable *by_name; /* unique name -> Agent */
	GHashTable *per_uid; /* uid -> number of its agents (> 0) */
	VigilAgentsCallbacks callbacks;
	gpointer user_data;
	GCancellable *cancellable; /* cancelled on free: late replies find nothing */
	guint64 next_serial;
	char **allowed_executables; /* or NULL: any program may be an agent */
	GHashTable *notes;          /* uid -> RegisteredNote, for users with agents */
	GHashTable *per_bucket;     /* fairness bucket -> number of its agents (> 0) */
	Gate *gate;
	VigilFairPool *pool;       /* reads the environments of agents' processes */
	GHashTable *registrations; /* of Registration: waiting for that */
};

/* a registration waiting for its processes' environments to be read */
struct _Registration {       /* reference counted (g_atomic_rc_box) */
	VigilAgents *agents; /* NULL once answered, or the agents are freed */
	char *name;
	char *path;
	guint32 uid;
	guint32 pid;
	VigilProcess *process; /* the opener */
	GCancellable *cancellable;
	guint deadline;
	VigilAgentsRegistered done;
	gpointer user_data;
};

/*
 * Notify("agent-registered") for one user: at most one per VIGIL_AGENTS_NOTE_INTERVAL_S; the
 * registrations meanwhile make one note, sent when the interval is over, naming the latest
 * with their count. Kept while the user has agents.
 */
typedef struct {
	VigilAgents *agents;
	guint32 uid;
	gint64 last_sent;  /* monotonic, us; 0: never */
	guint pending;     /* registrations since, not told yet */
	GVariant *details; /* the latest of them (without the count) */
	char *name;        /* its bus name: that agent is not told about itself */
	guint source;      /* sends the pending note */
} RegisteredNote;

/* ---- the calls' gate ---- */

static void
agent_count_free(AgentCount *count)
{
	g_free(count->name);
	g_free(count);
}

static Gate *
gate_new(GDBusConnection *connection, GCancellable *cancellable)
{
	Gate *gate = g_rc_box_new0(Gate);

	gate->connection = g_object_ref(connection);
	gate->cancellable = g_object_ref(cancellable);
	gate->per_bucket = g_hash_table_new(NULL, NULL);
	gate->per_agent =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)agent_count_free);
	g_queue_init(&gate->waiting);
	return gate;
}

static void
agent_call_free(AgentCall *call)
{
	g_free(call->name);
	g_free(call->path);
	g_clear_pointer(&call->params, g_variant_unref);
	g_free(call);
}

static void
gate_clear(gpointer data)
{
	Gate *gate = data;
	AgentCall *call;

	while ((call = g_queue_pop_head(&gate->waiting)) != NULL)
		agent_call_free(call);
	g_hash_table_unref(gate->per_bucket);
	g_hash_table_unref(gate->per_agent);
	g_object_unref(gate->cancellable);
	g_object_unref(gate->connection);
}

static void
gate_unref(Gate *gate)
{
	g_rc_box_release_full(gate, gate_clear);
}

/* the agents are gone: what waits is dropped, what is in flight ends unseen (cancelled) */
static void
gate_close(Gate *gate)
{
	AgentCall *call;

	gate->closed = TRUE;
	while ((call = g_queue_pop_head(&gate->waiting)) != NULL)
		agent_call_free(call);
	gate_unref(gate);
}

static guint
count_in(GHashTable *table, gconstpointer key)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(table, key));
}

/* for tables of integer keys */
static void
count_add(GHashTable *table, gpointer key, int delta)
{
	guint n = count_in(table, key) + delta;

	if (n == 0)
		g_hash_table_remove(table, key);
	else
		g_hash_table_insert(table, key, GUINT_TO_POINTER(n));
}

static guint
agent_count(Gate *gate, const char *name)
{
	AgentCount *count = g_hash_table_lookup(gate->per_agent, name);

	return count != NULL ? count->n : 0;
}

static void
agent_count_add(Gate *gate, const char *name, int delta)
{
	AgentCount *count = g_hash_table_lookup(gate->per_agent, name);

	if (count == NULL) {
		count = g_new0(AgentCount, 1);
		count->name = g_strdup(name);
		g_hash_table_insert(gate->per_agent, count->name, count);
	}
	count->n += delta;
	if (count->n == 0)
		g_hash_table_remove(gate->per_agent, name);
}

/*
 * Room for @call now: within all calls' bound, its agent's, and its user's share — the
 * bound divided among the users with calls in flight (this one counted), at most PER_USER —
 * so that one user's silent agents leave room for everyone else's prompts.
 */
static gboolean
gate_admits(Gate *gate, const AgentCall *call)
{
	gpointer bucket = GUINT_TO_POINTER(call->bucket);
	guint users = g_hash_table_size(gate->per_bucket) +
	              (g_hash_table_contains(gate->per_bucket, bucket) ? 0 : 1);
	guint share = MIN(MAX(VIGIL_AGENTS_MAX_CALLS / users, 1), VIGIL_AGENTS_MAX_CALLS_PER_USER);

	return gate->in_flight < VIGIL_AGENTS_MAX_CALLS &&
	       agent_count(gate, call->name) < VIGIL_AGENTS_MAX_CALLS_PER_AGENT &&
	       count_in(gate->per_bucket, bucket) < share;
}

static void gate_send(Gate *gate, AgentCall *call);

/*
 * Sends what waits and now has room, oldest first; an agent's prompts keep their order, so an
 * agent whose first waiting call has no room has none of its later ones sent either.
 */
static void
gate_pump(Gate *gate)
{
	g_autoptr(GHashTable) blocked = NULL;
	GList *l = gate->waiting.head;

	while (l != NULL && gate->in_flight < VIGIL_AGENTS_MAX_CALLS) {
		AgentCall *call = l->data;

		l = l->next;
		if (blocked != NULL && g_hash_table_contains(blocked, call->name))
			continue;
		if (!gate_admits(gate, call)) {
			if (blocked == NULL)
				blocked = g_hash_table_new(g_str_hash, g_str_equal);
			g_hash_table_add(blocked, call->name);
			continue;
		}
		g_queue_unlink(&gate->waiting, &call->link);
		gate_send(gate, call);
	}
}

static void
on_call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
	AgentCall *call = user_data;
	Gate *gate = call->gate;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	gboolean cancelled;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	cancelled = gate->closed || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	gate->in_flight--;
	count_add(gate->per_bucket, GUINT_TO_POINTER(call->bucket), -1);
	agent_count_add(gate, call->name, -1);
	if (reply == NULL && !cancelled) {
		g_info("agent %s will not ask about request %" G_GUINT64_FORMAT ": %s", call->name,
		       call->request, error->message);
		if (call->failed != NULL)
			call->failed(call->name, call->request, call->user_data);
	}
	if (!gate->closed)
		gate_pump(gate);
	agent_call_free(call);
	gate_unref(gate);
}

static void
gate_send(Gate *gate, AgentCall *call)
{
	gate->in_flight++;
	count_add(gate->per_bucket, GUINT_TO_POINTER(call->bucket), +1);
	agent_count_add(gate, call->name, +1);
	g_rc_box_acquire(gate);
	g_dbus_connection_call(gate->connection, call->name, call->path, VIGIL_DBUS_AGENT_INTERFACE,
	                       "Prompt", call->params, G_VARIANT_TYPE_UNIT,
	                       G_DBUS_CALL_FLAGS_NO_AUTO_START, AGENT_CALL_TIMEOUT_MS,
	                       gate->cancellable, on_call_done, call);
	g_clear_pointer(&call->params, g_variant_unref);
}

/* @call (its params floating or not) goes out now, or waits its turn behind its agent's */
static void
gate_call(Gate *gate, AgentCall *call)
{
	gboolean agent_waits = FALSE;

	call->gate = gate;
	call->link.data = call;
	call->params = g_variant_ref_sink(call->params);
	for (GList *l = gate->waiting.head; l != NULL && !agent_waits; l = l->next)
		agent_waits = g_str_equal(((AgentCall *)l->data)->name, call->name);
	if (!agent_waits && gate_admits(gate, call)) {
		gate_send(gate, call);
		return;
	}
	/* what waits is bounded by the open requests, each asking the user's agents once */
	if (gate->held_back++ == 0 || gate->held_back % 1000 == 0)
		g_message("calls to prompt agents wait for room (%" G_GUINT64_FORMAT
		          " so far): agents that do not answer hold %u calls",
		          gate->held_back, gate->in_flight);
	g_queue_push_tail_link(&gate->waiting, &call->link);
}

/* drops @name's waiting calls (it left, or unregistered) */
static void
gate_forget_agent(Gate *gate, const char *name)
{
	GList *l = gate->waiting.head;

	while (l != NULL) {
		AgentCall *call = l->data;

		l = l->next;
		if (!g_str_equal(call->name, name))
			continue;
		g_queue_unlink(&gate->waiting, &call->link);
		agent_call_free(call);
	}
}

/* takes back @name's Prompt for @request if it still waits: TRUE then (nothing to cancel) */
static gboolean
gate_unsend_prompt(Gate *gate, const char *name, guint64 request)
{
	for (GList *l = gate->waiting.head; l != NULL; l = l->next) {
		AgentCall *call = l->data;

		if (call->request == request && g_str_equal(call->name, name)) {
			g_queue_unlink(&gate->waiting, &call->link);
			agent_call_free(call);
			return TRUE;
		}
	}
	return FALSE;
}

/*
 * Cancel and Notify expect no reply (vigild never used their answers): dbus-daemon then keeps
 * no pending reply for them, so they take none of the room polkit's checks need, however
 * many agents leave them unanswered (and a GDBus agent sends no reply at all).
 */
static void
call_no_reply(VigilAgents *agents, const Agent *agent, const char *method, GVariant *params)
{
	g_dbus_connection_call(agents->connection, agent->name, agent->path,
	                       VIGIL_DBUS_AGENT_INTERFACE, method, params, NULL,
	                       G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

static void
agent_free(Agent *agent)
{
	if (agent->watch_id != 0)
		g_bus_unwatch_name(agent->watch_id);
	g_free(agent->name);
	g_free(agent->path);
	g_free(agent);
}

static void
note_free(RegisteredNote *note)
{
	g_clear_handle_id(&note->source, g_source_remove);
	g_clear_pointer(&note->details, g_variant_unref);
	g_free(note->name);
	g_free(note);
}

/* registrations still checked are dropped unanswered: their callers go with vigild */
static void
forget_registrations(VigilAgents *agents)
{
	GHashTableIter iter;
	Registration *reg;

	g_hash_table_iter_init(&iter, agents->registrations);
	while (g_hash_table_iter_next(&iter, (gpointer *)&reg, NULL)) {
		reg->agents = NULL;
		g_clear_handle_id(&reg->deadline, g_source_remove);
		g_cancellable_cancel(reg->cancellable);
		g_hash_table_iter_remove(&iter);
		registration_unref(reg);
	}
	g_clear_pointer(&agents->registrations, g_hash_table_unref);
}

VigilAgents *
vigil_agents_new(GDBusConnection *connection)
{
	VigilAgents *agents = g_new0(VigilAgents, 1);

	agents->connection = g_object_ref(connection);
	agents->by_name =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)agent_free);
	agents->per_uid = g_hash_table_new(NULL, NULL);
	agents->notes = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)note_free);
	agents->per_bucket = g_hash_table_new(NULL, NULL);
	agents->cancellable = g_cancellable_new();
	agents->gate = gate_new(connection, agents->cancellable);
	agents->pool = vigil_fair_pool_new(CHECK_THREADS, CHECK_PER_USER, CHECK_QUEUE_MAX);
	agents->registrations = g_hash_table_new(NULL, NULL);
	return agents;
}

void
vigil_agents_free(VigilAgents *agents)
{
	if (agents == NULL)
		return;
	g_cancellable_cancel(agents->cancellable);
	g_clear_pointer(&agents->gate, gate_close);
	forget_registrations(agents);
	/* a read still stuck keeps its thread: the pool is left to it (vigil-fair-pool.h) */
	g_clear_pointer(&agents->pool, vigil_fair_pool_free);
	g_clear_object(&agents->cancellable);
	g_clear_pointer(&agents->by_name, g_hash_table_unref);
	g_clear_pointer(&agents->per_uid, g_hash_table_unref);
	g_clear_pointer(&agents->notes, g_hash_table_unref);
	g_clear_pointer(&agents->per_bucket, g_hash_table_unref);
	g_clear_pointer(&agents->allowed_executables, g_strfreev);
	g_clear_object(&agents->connection);
	g_free(agents);
}

void
vigil_agents_set_callbacks(VigilAgents *agents, const VigilAgentsCallbacks *callbacks,
                           gpointer user_data)
{
	agents->callbacks = *callbacks;
	agents->user_data = user_data;
}

static guint
count_for_uid(VigilAgents *agents, guint32 uid)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(agents->per_uid, GUINT_TO_POINTER(uid)));
}

static void
add_to_uid(VigilAgents *agents, const Agent *agent, int delta)
{
	guint32 uid = agent->uid;
	guint n = count_for_uid(agents, uid) + delta;

	/* vigil_agents_count_uids() counts users, not uids (vigil-fair.h) */
	count_add(agents->per_bucket, GUINT_TO_POINTER(agent->bucket), delta);

	if (n == 0) {
		g_hash_table_remove(agents->per_uid, GUINT_TO_POINTER(uid));
		/* nobody left to tell: a pending note goes too */
		g_hash_table_remove(agents->notes, GUINT_TO_POINTER(uid));
	} else
		g_hash_table_insert(agents->per_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n));
}

/* removes @name's agent and tells the listener; TRUE when there was one */
static gboolean
drop_agent(VigilAgents *agents, const char *name)
{
	Agent *agent = g_hash_table_lookup(agents->by_name, name);
	g_autofree char *owned_name = NULL;
	guint32 uid;

	if (agent == NULL)
		return FALSE;
	owned_name = g_strdup(agent->name);
	uid = agent->uid;
	gate_forget_agent(agents->gate, owned_name);
	add_to_uid(agents, agent, -1);
	g_hash_table_remove(agents->by_name, name);
	g_info("agent %s of uid %u unregistered", owned_name, uid);
	if (agents->callbacks.removed != NULL)
		agents->callbacks.removed(uid, owned_name, agents->user_data);
	return TRUE;
}

static void
on_name_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
	VigilAgents *agents = user_data;

	g_debug("agent %s left the bus", name);
	drop_agent(agents, name);
}

void
vigil_agents_set_allowed_executables(VigilAgents *agents, const char *const *paths)
{
	g_clear_pointer(&agents->allowed_executables, g_strfreev);
	if (paths != NULL && paths[0] != NULL)
		agents->allowed_executables = g_strdupv((char **)paths);
}

/* @process runs one of the allowed executables: the same file, not just the same path */
static gboolean
executable_allowed(VigilAgents *agents, const VigilProcess *process)
{
	if (agents->allowed_executables == NULL)
		return TRUE;
	if (process == NULL || process->exe == NULL)
		return FALSE;
	for (guint i = 0; agents->allowed_executables[i] != NULL; i++) {
		VigilFileId id;

		/* on the main loop: a path walked without asking any FUSE server (a user's, on
		 * the way, might never answer); one that goes through FUSE names no file */
		if (vigil_program_path_resolve(agents->allowed_executables[i], NULL, &id) &&
		    id.dev == (guint64)process->exe_dev && id.ino == (guint64)process->exe_ino)
			return TRUE;
	}
	return FALSE;
}

/* /proc/PID of @pid, as a directory fd: its environment is read through it later, in a
 * thread, and a pid taken by another process meanwhile is not read in its place; -1 if gone */
static int
open_pid_dir(guint32 pid)
{
	g_autofree char *dir = g_strdup_printf("/proc/%u", pid);

	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/*
 * The process that opened the agent's bus connection, if it can be read; with allowed
 * executables set it must run one of them, untraced. Its environment (a preloaded library)
 * is read later, in a thread (check_preloads()): reading it waits for the process's mmap lock.
 */
static gboolean
check_agent_process(VigilAgents *agents, guint32 pid, VigilProcess **out, GError **error)
{
	g_autoptr(VigilProcess) process = NULL;
	g_autoptr(GError) local_error = NULL;

	/* on the main loop: nothing the process can hold (its cmdline and environment wait for
	 * its mmap lock) */
	if (pid != 0)
		process = vigil_process_read_full("/proc", pid, NULL, VIGIL_PROCESS_READ_NO_MEMORY,
		                                  &local_error);
	if (process == NULL)
		g_debug("agent process %u unknown: %s", pid,
		        local_error != NULL ? local_error->message : "the bus did not say");
	if (!executable_allowed(agents, process)) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
		            "%s may not be a prompt agent: the administrator allows only the "
		            "programs in AgentExecutables",
		            process != NULL && process->exe != NULL ? process->exe
		                                                    : "an unknown program");
		return FALSE;
	}
	if (agents->allowed_executables != NULL && process->taint != 0) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
		            "%s may not be a prompt agent while it is %s", process->exe,
		            process->taint & VIGIL_TAINT_TRACED ? "traced"
		                                                : "run with preloaded libraries");
		return FALSE;
	}
	*out = g_steal_pointer(&process);
	return TRUE;
}

gboolean
vigil_agents_pins_executables(VigilAgents *agents)
{
	return agents->allowed_executables != NULL;
}

/*
 * The processes whose environments (a preloaded library) are read before an agent is
 * registered: in a thread of the pool, in the user's share (vigil-fair-pool.h), since each
 * read waits for that process's mmap lock, which the process may hold for as long as it likes.
 */
typedef struct {
	GArray *pid_dirs; /* int: /proc/PID fds, the opener's first */
	GArray *pids;     /* guint32: the pid of each */
	GPtrArray *exes;  /* char *: the executable of each (for the error) */
	/* written by the thread, read once it has returned: */
	gboolean check_taint; /* AgentExecutables set: every holder's environment is read */
	guint taint;          /* of the first process found tainted; 0: none */
	guint tainted_i;      /* its index */
	char *cmdline;        /* the opener's, for the other agents' note; NULL: unread */
} PreloadCheck;

static void
preload_check_free(PreloadCheck *check)
{
	for (guint i = 0; i < check->pid_dirs->len; i++)
		close(g_array_index(check->pid_dirs, int, i));
	g_array_unref(check->pid_dirs);
	g_array_unref(check->pids);
	g_ptr_array_unref(check->exes);
	g_free(check->cmdline);
	g_free(check);
}

static PreloadCheck *
preload_check_new(void)
{
	PreloadCheck *check = g_new0(PreloadCheck, 1);

	check->pid_dirs = g_array_new(FALSE, FALSE, sizeof(int));
	check->pids = g_array_new(FALSE, FALSE, sizeof(guint32));
	check->exes = g_ptr_array_new_with_free_func(g_free);
	return check;
}

/* a process whose /proc directory is gone has exited: it holds nothing, and is not read */
static void
preload_check_add(PreloadCheck *check, guint32 pid, const VigilProcess *process)
{
	int fd = open_pid_dir(pid);

	if (fd < 0)
		return;
	g_array_append_val(check->pid_dirs, fd);
	g_array_append_val(check->pids, pid);
	g_ptr_array_add(check->exes, g_strdup(process->exe));
}

/* in a pool thread: may wait as long as a process holds its mmap lock */
static void
preload_check_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	PreloadCheck *check = task_data;

	/* the opener's command line, which the user's other agents are shown */
	if (check->pid_dirs->len > 0)
		check->cmdline =
		    vigil_process_read_cmdline_at(g_array_index(check->pid_dirs, int, 0),
		                                  g_array_index(check->pids, guint32, 0), NULL);
	for (guint i = 0; check->check_taint && i < check->pid_dirs->len; i++) {
		guint taint =
		    vigil_process_taint_read(g_array_index(check->pid_dirs, int, i), NULL);

		if (taint != 0) {
			check->taint = taint;
			check->tainted_i = i;
			break;
		}
		if (g_task_return_error_if_cancelled(task))
			return;
	}
	g_task_return_boolean(task, TRUE);
}

/*
 * The bus says which process opened a connection, not which use it: one that is not allowed
 * may have opened it and exec'd an allowed program, or taken it over. Every process that
 * holds it now must pass as the opener does; each one's environment goes into @check.
 */
static gboolean
check_holders(VigilAgents *agents, guint32 pid, const GArray *holders, PreloadCheck *check,
              GError **error)
{
	if (holders == NULL || holders->len == 0) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
		            "no process holds this agent's bus connection where vigild can see it "
		            "(passed on in a message?): only the programs in AgentExecutables may "
		            "be prompt agents");
		return FALSE;
	}
	for (guint i = 0; i < holders->len; i++) {
		guint32 holder = g_array_index(holders, guint32, i);
		g_autoptr(VigilProcess) process = NULL;
		g_autoptr(GError) local_error = NULL;

		if (!check_agent_process(agents, holder, &process, &local_error)) {
			g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
			            "process %u holds the bus connection of the agent that process "
			            "%u opened: %s",
			            holder, pid, local_error->message);
			g_message("prompt agent refused: %s", (*error)->message);
			return FALSE;
		}
		preload_check_add(check, holder, process);
	}
	return TRUE;
}

static void notify_except(VigilAgents *agents, guint32 uid, const char *except, const char *kind,
                          GVariant *details);

/* Notify("agent-registered") about the note's latest registration and how many it stands for */
static void
send_note(RegisteredNote *note)
{
	GVariantBuilder details;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_builder_init(&details, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, note->details);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_variant_builder_add(&details, "{sv}", key, value);
		g_variant_unref(value);
	}
	g_variant_builder_add(&details, "{sv}", VIGIL_NOTIFY_KEY_COUNT,
	                      g_variant_new_uint32(note->pending));
	notify_except(note->agents, note->uid, note->name, VIGIL_NOTIFY_AGENT_REGISTERED,
	              g_variant_builder_end(&details));
	note->last_sent = g_get_monotonic_time();
	note->pending = 0;
}

static gboolean
on_note_due(gpointer user_data)
{
	RegisteredNote *note = user_data;

	note->source = 0;
	send_note(note);
	return G_SOURCE_REMOVE;
}

/*
 * Tells @uid's agents (all registered before @name) that @name registered: at once, or with
 * the others of the interval once it is over, so that a flood of registrations is not a flood
 * of notifications (and of calls to agents that may never answer).
 */
static void
notify_registered(VigilAgents *agents, guint32 uid, const char *name, const VigilProcess *process)
{
	GVariantBuilder details;
	RegisteredNote *note;
	gint64 now = g_get_monotonic_time();
	gint64 due;

	if (count_for_uid(agents, uid) == 0)
		return;
	g_variant_builder_init(&details, G_VARIANT_TYPE_VARDICT);
	vigil_connection_dict_add_process(&details, process, uid);
	g_variant_builder_add(&details, "{sv}", VIGIL_NOTIFY_KEY_BUS_NAME,
	                      g_variant_new_string(name));
	g_variant_builder_add(&details, "{sv}", VIGIL_CONN_KEY_TIME,
	                      g_variant_new_int64(g_get_real_time()));
	note = g_hash_table_lookup(agents->notes, GUINT_TO_POINTER(uid));
	if (note == NULL) {
		note = g_new0(RegisteredNote, 1);
		note->agents = agents;
		note->uid = uid;
		g_hash_table_insert(agents->notes, GUINT_TO_POINTER(uid), note);
	}
	g_clear_pointer(&note->details, g_variant_unref);
	note->details = g_variant_ref_sink(g_variant_builder_end(&details));
	g_free(note->name);
	note->name = g_strdup(name);
	note->pending++;
	due = note->last_sent + VIGIL_AGENTS_NOTE_INTERVAL_S * G_USEC_PER_SEC;
	if (note->last_sent == 0 || now >= due) {
		g_clear_handle_id(&note->source, g_source_remove);
		send_note(note);
	} else if (note->source == 0) {
		note->source = g_timeout_add((guint)((due - now + 999) / 1000), on_note_due, note);
	}
}

/* what may be refused at once, before and again after the processes are checked */
static gboolean
check_room(VigilAgents *agents, const char *name, guint32 uid, const char *path, GError **error)
{
	if (!g_variant_is_object_path(path) || g_str_equal(path, "/")) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT,
		            "agent: '%s' is not an object path other than '/'", path);
		return FALSE;
	}
	if (g_hash_table_contains(agents->by_name, name)) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_EXISTS,
		            "this connection (%s) already registered an agent; call "
		            "UnregisterAgent first",
		            name);
		return FALSE;
	}
	if (count_for_uid(agents, uid) >= VIGIL_AGENTS_MAX_PER_UID ||
	    g_hash_table_size(agents->by_name) >= VIGIL_AGENTS_MAX_TOTAL) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,
		            "too many prompt agents (at most %d per user); close another one first",
		            VIGIL_AGENTS_MAX_PER_UID);
		return FALSE;
	}
	return TRUE;
}

static void
add_agent(VigilAgents *agents, const char *name, guint32 uid, guint32 pid, const char *path,
          const VigilProcess *process)
{
	Agent *agent;

	/* before it is one of them: the agents already there learn of it, it does not */
	notify_registered(agents, uid, name, process);
	agent = g_new0(Agent, 1);
	agent->name = g_strdup(name);
	agent->path = g_strdup(path);
	agent->uid = uid;
	agent->bucket = vigil_fair_bucket(uid);
	agent->serial = agents->next_serial++;
	g_hash_table_insert(agents->by_name, agent->name, agent);
	add_to_uid(agents, agent, +1);
	/* if @name has already left, this reports it vanished from the main loop */
	agent->watch_id =
	    g_bus_watch_name_on_connection(agents->connection, name, G_BUS_NAME_WATCHER_FLAGS_NONE,
	                                   NULL, on_name_vanished, agents, NULL);
	g_info("agent %s%s registered for uid %u (pid %u)", name, path, uid, pid);
	if (agents->callbacks.added != NULL)
		agents->callbacks.added(uid, name, agents->user_data);
}

static void
registration_clear(gpointer data)
{
	Registration *reg = data;

	g_free(reg->name);
	g_free(reg->path);
	g_clear_pointer(&reg->process, vigil_process_unref);
	g_clear_object(&reg->cancellable);
}

static void
registration_unref(Registration *reg)
{
	g_atomic_rc_box_release_full(reg, registration_clear);
}

/* answers @reg once (@error: refused, taken): later, a read that ends finds nothing to do */
static void
registration_end(Registration *reg, GError *error)
{
	VigilAgents *agents = reg->agents;

	g_return_if_fail(agents != NULL);
	reg->agents = NULL;
	g_clear_handle_id(&reg->deadline, g_source_remove);
	g_cancellable_cancel(reg->cancellable);
	g_hash_table_remove(agents->registrations, reg);
	/* the user may have registered others meanwhile, or this connection one */
	if (error == NULL && check_room(agents, reg->name, reg->uid, reg->path, &error))
		add_agent(agents, reg->name, reg->uid, reg->pid, reg->path, reg->process);
	reg->done(error, reg->user_data);
	registration_unref(reg); /* the table's */
}

static gboolean
on_registration_deadline(gpointer user_data)
{
	Registration *reg = user_data;

	reg->deadline = 0;
	g_message("prompt agent %s of uid %u refused: the environment of its processes could not "
	          "be read within %d s",
	          reg->name, reg->uid, VIGIL_AGENTS_CHECK_TIMEOUT_S);
	registration_end(reg, g_error_new(VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY,
	                                  "vigild could not read the environment of this agent's "
	                                  "processes within %d s (one of them holds its memory "
	                                  "map); try again later",
	                                  VIGIL_AGENTS_CHECK_TIMEOUT_S));
	return G_SOURCE_REMOVE;
}

static void
on_preloads_checked(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Registration *reg = user_data;
	PreloadCheck *check = g_task_get_task_data(G_TASK(result));
	g_autoptr(GError) error = NULL;
	GError *refusal = NULL;

	if (reg->agents == NULL) {
		/* answered already (its deadline), or the agents are gone */
		registration_unref(reg);
		return;
	}
	if (!g_task_propagate_boolean(G_TASK(result), &error)) {
		/* G_IO_ERROR_BUSY: the user's share of the pool has too many waiting */
		refusal = g_error_new(VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY,
		                      "vigild is checking other processes of this user; try again "
		                      "later (%s)",
		                      error->message);
	} else if (check->taint != 0) {
		guint32 pid = g_array_index(check->pids, guint32, check->tainted_i);
		g_autofree char *what = g_strdup_printf(
		    "%s may not be a prompt agent while it is %s",
		    (const char *)g_ptr_array_index(check->exes, check->tainted_i),
		    check->taint & VIGIL_TAINT_TRACED ? "traced" : "run with preloaded libraries");

		if (pid == reg->pid && check->tainted_i == 0)
			refusal = g_error_new_literal(VIGIL_DBUS_ERROR,
			                              VIGIL_DBUS_ERROR_PERMISSION_DENIED, what);
		else
			refusal =
			    g_error_new(VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
			                "process %u holds the bus connection of the agent that "
			                "process %u opened: %s",
			                pid, reg->pid, what);
		g_message("prompt agent refused: %s", refusal->message);
	}
	/* read in the thread: the process object is this registration's own */
	if (refusal == NULL && reg->process != NULL && reg->process->cmdline == NULL)
		reg->process->cmdline = g_steal_pointer(&check->cmdline);
	registration_end(reg, refusal);
	registration_unref(reg); /* the task's */
}

void
vigil_agents_register(VigilAgents *agents, const char *name, guint32 uid, guint32 pid,
                      const GArray *holders, const char *path, VigilAgentsRegistered done,
                      gpointer user_data)
{
	g_autoptr(VigilProcess) process = NULL;
	PreloadCheck *check;
	g_autoptr(GTask) task = NULL;
	Registration *reg;
	GError *error = NULL;

	if (!check_room(agents, name, uid, path, &error) ||
	    !check_agent_process(agents, pid, &process, &error)) {
		done(error, user_data);
		return;
	}
	check = preload_check_new();
	if (process != NULL)
		preload_check_add(check, pid, process);
	/* with AgentExecutables set, every holder must pass as the opener does */
	check->check_taint = agents->allowed_executables != NULL;
	if (check->check_taint && !check_holders(agents, pid, holders, check, &error)) {
		preload_check_free(check);
		done(error, user_data);
		return;
	}
	reg = g_atomic_rc_box_new0(Registration); /* the table's reference, until answered */
	reg->agents = agents;
	reg->name = g_strdup(name);
	reg->path = g_strdup(path);
	reg->uid = uid;
	reg->pid = pid;
	reg->process = g_steal_pointer(&process);
	reg->cancellable = g_cancellable_new();
	reg->done = done;
	reg->user_data = user_data;
	g_hash_table_add(agents->registrations, reg);
	reg->deadline =
	    g_timeout_add_seconds(VIGIL_AGENTS_CHECK_TIMEOUT_S, on_registration_deadline, reg);
	/* in @uid's share of the threads: one of its processes may hold the read for ever */
	task =
	    g_task_new(NULL, reg->cancellable, on_preloads_checked, g_atomic_rc_box_acquire(reg));
	g_task_set_task_data(task, check, (GDestroyNotify)preload_check_free);
	vigil_fair_pool_run(agents->pool, uid, task, preload_check_thread);
}

gboolean
vigil_agents_unregister(VigilAgents *agents, const char *name, GError **error)
{
	if (!drop_agent(agents, name)) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NO_AGENT,
		            "this connection (%s) has not registered an agent", name);
		return FALSE;
	}
	return TRUE;
}

gboolean
vigil_agents_has_uid(VigilAgents *agents, guint32 uid)
{
	return agents != NULL && count_for_uid(agents, uid) > 0;
}

static gint
compare_serial(gconstpointer a, gconstpointer b)
{
	const Agent *x = *(const Agent *const *)a;
	const Agent *y = *(const Agent *const *)b;

	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

GPtrArray *
vigil_agents_names_for_uid(VigilAgents *agents, guint32 uid)
{
	g_autoptr(GPtrArray) found = g_ptr_array_new();
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	Agent *agent;

	g_hash_table_iter_init(&iter, agents->by_name);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&agent)) {
		if (agent->uid == uid)
			g_ptr_array_add(found, agent);
	}
	g_ptr_array_sort(found, compare_serial);
	for (guint i = 0; i < found->len; i++)
		g_ptr_array_add(names, g_strdup(((Agent *)g_ptr_array_index(found, i))->name));
	return names;
}

guint
vigil_agents_count(VigilAgents *agents)
{
	return agents != NULL ? g_hash_table_size(agents->by_name) : 0;
}

guint
vigil_agents_count_uids(VigilAgents *agents)
{
	return agents != NULL ? g_hash_table_size(agents->per_bucket) : 0;
}

guint
vigil_agents_calls_in_flight(VigilAgents *agents)
{
	return agents != NULL ? agents->gate->in_flight : 0;
}

guint
vigil_agents_calls_waiting(VigilAgents *agents)
{
	return agents != NULL ? agents->gate->waiting.length : 0;
}

static Agent *
lookup(VigilAgents *agents, const char *name)
{
	return agents != NULL ? g_hash_table_lookup(agents->by_name, name) : NULL;
}

void
vigil_agents_prompt(VigilAgents *agents, const char *name, guint64 request, GVariant *connection,
                    VigilAgentsPromptFailed failed, gpointer user_data)
{
	g_autoptr(GVariant) dict = g_variant_ref_sink(connection);
	Agent *agent = lookup(agents, name);
	AgentCall *call;

	if (agent == NULL)
		return;
	call = g_new0(AgentCall, 1);
	call->name = g_strdup(agent->name);
	call->path = g_strdup(agent->path);
	call->bucket = agent->bucket;
	call->params = g_variant_new("(t@a{sv})", request, dict);
	call->request = request;
	call->failed = failed;
	call->user_data = user_data;
	gate_call(agents->gate, call);
}

void
vigil_agents_cancel(VigilAgents *agents, const char *name, guint64 request, const char *reason)
{
	Agent *agent = lookup(agents, name);

	/* a prompt that never went out needs no Cancel */
	if (agent == NULL || gate_unsend_prompt(agents->gate, name, request))
		return;
	call_no_reply(agents, agent, "Cancel", g_variant_new("(ts)", request, reason));
}

/* Notify() to every agent of @uid but @except (may be NULL) */
static void
notify_except(VigilAgents *agents, guint32 uid, const char *except, const char *kind,
              GVariant *details)
{
	g_autoptr(GVariant) dict = g_variant_ref_sink(details);
	GHashTableIter iter;
	Agent *agent;

	g_hash_table_iter_init(&iter, agents->by_name);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&agent)) {
		if (agent->uid != uid || g_strcmp0(agent->name, except) == 0)
			continue;
		call_no_reply(agents, agent, "Notify", g_variant_new("(s@a{sv})", kind, dict));
	}
}

void
vigil_agents_notify(VigilAgents *agents, guint32 uid, const char *kind, GVariant *details)
{
	if (agents == NULL) {
		g_variant_unref(g_variant_ref_sink(details));
		return;
	}
	notify_except(agents, uid, NULL, kind, details);
}
