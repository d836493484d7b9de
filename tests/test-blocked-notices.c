/* test-blocked-notices.c: Notify("blocked") at most once a minute per user, program and place */
#include "config.h"

#include <sys/socket.h>

#include "vigil-blocked-notices.h"

static VigilDecision
decision(guint32 uid, const char *program, const char *address)
{
	VigilDecision d = {0};

	d.uid = uid;
	d.program = (char *)program;
	g_assert_true(vigil_address_parse(address, &d.family, &d.dst));
	return d;
}

static void
test_once_a_minute(void)
{
	g_autoptr(VigilBlockedNotices) notices = vigil_blocked_notices_new();
	VigilDecision curl = decision(1000, "/usr/bin/curl", "192.0.2.1");
	VigilDecision other_place = decision(1000, "/usr/bin/curl", "192.0.2.2");
	VigilDecision other_user = decision(1001, "/usr/bin/curl", "192.0.2.1");
	VigilDecision unknown = decision(1000, NULL, "192.0.2.1");
	gint64 t = 1000 * G_USEC_PER_SEC;

	g_assert_true(vigil_blocked_notices_due(notices, &curl, t));
	g_assert_false(vigil_blocked_notices_due(notices, &curl, t + 1));
	g_assert_false(
	    vigil_blocked_notices_due(notices, &curl, t + VIGIL_BLOCKED_NOTICE_INTERVAL_US - 1));
	/* another destination, user or program is told on its own */
	g_assert_true(vigil_blocked_notices_due(notices, &other_place, t + 2));
	g_assert_true(vigil_blocked_notices_due(notices, &other_user, t + 2));
	g_assert_true(vigil_blocked_notices_due(notices, &unknown, t + 2));
	/* a minute on, again */
	g_assert_true(
	    vigil_blocked_notices_due(notices, &curl, t + VIGIL_BLOCKED_NOTICE_INTERVAL_US));
}

/* a user's flood of destinations costs a bounded table: past the bound it starts again */
static void
test_bounded(void)
{
	g_autoptr(VigilBlockedNotices) notices = vigil_blocked_notices_new();
	VigilDecision first = decision(1000, "/usr/bin/x", "10.0.0.1");
	gint64 t = 1000 * G_USEC_PER_SEC;

	g_assert_true(vigil_blocked_notices_due(notices, &first, t));
	for (guint i = 0; i < VIGIL_BLOCKED_NOTICE_MAX_KEYS; i++) {
		g_autofree char *address = g_strdup_printf("10.1.%u.%u", i / 256, i % 256);
		VigilDecision d = decision(1000, "/usr/bin/x", address);

		g_assert_true(vigil_blocked_notices_due(notices, &d, t));
	}
	/* forgotten with the rest: told again early, never never */
	g_assert_true(vigil_blocked_notices_due(notices, &first, t + 1));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/blocked-notices/once-a-minute", test_once_a_minute);
	g_test_add_func("/blocked-notices/bounded", test_bounded);
	return g_test_run();
}
