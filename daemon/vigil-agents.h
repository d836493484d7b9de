/* vigil-agents.h: the prompt agents users registered, and the calls vigild makes to them */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* bounds: a user with more agents than this has a runaway program, not more screens */
#define VIGIL_AGENTS_MAX_PER_UID 8
#define VIGIL_AGENTS_MAX_TOTAL   256
/*
 * a user's agents get Notify("agent-registered") at most once in this many seconds; the
 * registrations meanwhile make one notification (with their count), sent when it is over
 */
#define VIGIL_AGENTS_NOTE_INTERVAL_S 5

/*
 * vigild's Prompt calls to agents, which wait for a reply. dbus-daemon lets vigild wait for
 * at most 128 replies at a time (max_replies_per_connection on the system bus), and polkit's
 * checks need 96 of them (vigil-polkit.h): agents that never answer must not take the room
 * polkit needs, or every authorised call (an administrator's too) would be denied while they
 * hold it. So at most MAX_CALLS are in flight, PER_USER of a user's agents (less when more
 * users have calls in flight: the bound divided among them) and PER_AGENT of one agent;
 * SPARE stays for anything else. The rest wait in vigild, in order, and go out as earlier
 * calls are answered or time out (CALL_TIMEOUT_S): a prompt is still asked later, never
 * decided because it waited (its request's PromptTimeout still runs: DefaultAction then,
 * as for any prompt not answered). A waiting Prompt whose request ends is dropped, with no
 * Cancel. Cancel and Notify expect no reply: they take no room.
 */
#define VIGIL_AGENTS_MAX_CALLS           24
#define VIGIL_AGENTS_MAX_CALLS_PER_USER  8
#define VIGIL_AGENTS_MAX_CALLS_PER_AGENT 4
#define VIGIL_AGENTS_CALLS_SPARE         8
#define VIGIL_AGENTS_CALL_TIMEOUT_S      10

typedef struct _VigilAgents VigilAgents;

/* told when an agent comes (registered) or goes (unregistered, or left the bus) */
typedef struct {
	void (*added)(guint32 uid, const char *name, gpointer user_data);
	void (*removed)(guint32 uid, const char *name, gpointer user_data);
} VigilAgentsCallbacks;

/* agents on @connection's bus; calls to them go point to point to their unique names */
VigilAgents *vigil_agents_new(GDBusConnection *connection);
/* drops every agent without calling removed; calls in flight complete unseen */
void vigil_agents_free(VigilAgents *agents);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilAgents, vigil_agents_free)

void vigil_agents_set_callbacks(VigilAgents *agents, const VigilAgentsCallbacks *callbacks,
                                gpointer user_data);

/*
 * Only these executables (absolute paths; NULL or empty: any) may register. A file is
 * compared by device and inode, read when an agent registers (so an upgraded file counts).
 */
void vigil_agents_set_allowed_executables(VigilAgents *agents, const char *const *paths);

/* are only some executables allowed? Then registering needs the connection's holders */
gboolean vigil_agents_pins_executables(VigilAgents *agents);

/*
 * With only some executables allowed, the environments of an agent's processes (a preloaded
 * library) are read in a thread, in its user's share (vigil-fair-pool.h): each read waits for
 * the process's mmap lock, which it may hold for ever. A registration whose reads have not
 * ended after this long is refused (Busy).
 */
#define VIGIL_AGENTS_CHECK_TIMEOUT_S 5

/* @error (taken) is NULL when the agent was registered */
typedef void (*VigilAgentsRegistered)(GError *error, gpointer user_data);

/*
 * Registers the agent that the connection with unique name @name (of user @uid, opened by
 * process @pid as the bus reports it; 0 when unknown) exports at @path, then calls @done:
 * at once, or later from the main loop while only some executables are allowed (never
 * after vigil_agents_free()). @holders (guint32 pids, vigil_bus_peer_holders()) are the
 * processes that hold the connection now: while only some executables are allowed, each must
 * run one of them, untraced and without preloaded libraries, and there must be one (NULL: not
 * known, refused then). @uid's agents that are registered already get
 * Notify("agent-registered") with the new agent's process.
 * VIGIL_DBUS_ERROR: INVALID_ARGUMENT (@path "/" or not an object path), EXISTS (this
 * connection has an agent), LIMIT_EXCEEDED, PERMISSION_DENIED (its executable, or that of a
 * process holding its connection, is not an allowed one, or it is traced or preloaded while
 * only some are allowed), BUSY (the environments could not be read within
 * VIGIL_AGENTS_CHECK_TIMEOUT_S, or the user has too many waiting to be read). The agent is
 * dropped when @name leaves the bus.
 */
void vigil_agents_register(VigilAgents *agents, const char *name, guint32 uid, guint32 pid,
                           const GArray *holders, const char *path, VigilAgentsRegistered done,
                           gpointer user_data);
/* VIGIL_DBUS_ERROR_NO_AGENT when @name has none */
gboolean vigil_agents_unregister(VigilAgents *agents, const char *name, GError **error);

gboolean vigil_agents_has_uid(VigilAgents *agents, guint32 uid);
/* the unique names of @uid's agents, oldest first (a new array of new strings) */
GPtrArray *vigil_agents_names_for_uid(VigilAgents *agents, guint32 uid);
guint vigil_agents_count(VigilAgents *agents);
/* how many users have an agent (a user's subordinate uids count as the user, vigil-fair.h) */
guint vigil_agents_count_uids(VigilAgents *agents);
/* Prompt calls waiting for their agent's reply, and waiting for room (tests) */
guint vigil_agents_calls_in_flight(VigilAgents *agents);
guint vigil_agents_calls_waiting(VigilAgents *agents);

/* @failed runs when the agent answers Prompt with an error (it will not ask) */
typedef void (*VigilAgentsPromptFailed)(const char *name, guint64 request, gpointer user_data);

/* Agent.Prompt(@request, @connection); @connection (a{sv}) is sunk if floating */
void vigil_agents_prompt(VigilAgents *agents, const char *name, guint64 request,
                         GVariant *connection, VigilAgentsPromptFailed failed, gpointer user_data);
void vigil_agents_cancel(VigilAgents *agents, const char *name, guint64 request,
                         const char *reason);
/* Agent.Notify() to every agent of @uid */
void vigil_agents_notify(VigilAgents *agents, guint32 uid, const char *kind, GVariant *details);

G_END_DECLS
