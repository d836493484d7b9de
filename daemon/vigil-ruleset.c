/* vigil-ruleset.c: the live rules, indexed by program then destination, and their precedence */
#define G_LOG_DOMAIN "vigil-ruleset"
#include "config.h"

#include "vigil-ruleset.h"

#include <string.h>
#include <sys/socket.h>

/*
 * The index: a bucket per program (exe path), one for "any program" and one for
 * "app unknown". In a bucket, rules sit in slots by destination: exact host, domain,
 * one hash of networks per (family, prefix length) present, and "any". A lookup visits
 * the slots its program and destination can reach, so the cost depends on how many
 * names and prefix lengths there are, not on how many rules.
 */

typedef struct {
	VigilRule *rule;
	GPatternSpec *args; /* compiled rule->args_glob */
	guint64 specificity;
} Entry;

typedef struct {
	int family;
	guint prefix_len;
	GHashTable *nets; /* VigilAddress* (masked) -> GPtrArray of Entry* */
} CidrLevel;

typedef struct {
	GHashTable *hosts;   /* name -> GPtrArray of Entry*; NULL until needed */
	GHashTable *domains; /* domain -> GPtrArray of Entry*; NULL until needed */
	GPtrArray *levels;   /* CidrLevel*, longest prefix first; NULL until needed */
	GPtrArray *any;      /* Entry*; NULL until needed */
	guint n_entries;
} Bucket;

struct _VigilRuleset {
	GHashTable *by_id;    /* guint64* -> Entry* (owns the entries) */
	GHashTable *programs; /* exe path -> Bucket* */
	Bucket *any_program;
	Bucket *unknown_program;
	guint64 next_id;
	guint examined;
};

/* ---- specificity ---- */

/* bit layout of vigil_rule_specificity(), most significant first */
#define SHIFT_PROGRAM 29 /* 3 bits: 4 for a program (or "unknown"), + 1 per qualifier */
#define SHIFT_DEST    20 /* 9 bits: any 0, CIDR 1 + prefix, domain 200 + labels, host 400 */
#define SHIFT_PORT    4  /* 16 bits: any 0, else 65536 - number of ports */
#define SHIFT_PROTO   3
#define SHIFT_USER    2
#define SHIFT_ACTION  0 /* 2 bits: allow 0, drop 1, deny 2 */

#define DEST_CIDR   1
#define DEST_DOMAIN 200
#define DEST_HOST   400

static guint
count_labels(const char *name)
{
	guint labels = 1;

	for (const char *p = name; *p != '\0'; p++)
		labels += *p == '.';
	return labels;
}

static guint
program_rank(const VigilRule *rule)
{
	guint rank = rule->program != NULL ? 4 : 0;

	rank += rule->sha256 != NULL;
	rank += rule->args_glob != NULL;
	rank += rule->app_id != NULL;
	return rank;
}

static guint
destination_rank(const VigilRule *rule)
{
	switch (rule->target_kind) {
	case VIGIL_TARGET_ANY:
		return 0;
	case VIGIL_TARGET_CIDR:
		return DEST_CIDR + MIN(rule->prefix_len, 128);
	case VIGIL_TARGET_DOMAIN:
		return DEST_DOMAIN + MIN(count_labels(rule->host), 127);
	case VIGIL_TARGET_HOST:
		return DEST_HOST;
	}
	return 0;
}

static guint
port_rank(const VigilRule *rule)
{
	guint count = 0;

	if (rule->ports == NULL || rule->ports->len == 0)
		return 0;
	for (guint i = 0; i < rule->ports->len; i++) {
		const VigilPortRange *r = &g_array_index(rule->ports, VigilPortRange, i);

		count += (guint)r->last - r->first + 1;
	}
	/* fewer ports is narrower; a single port ranks highest (65535) */
	return 65536 - MIN(count, 65535);
}

static guint
action_rank(VigilAction action)
{
	switch (action) {
	case VIGIL_ACTION_ALLOW:
		return 0;
	case VIGIL_ACTION_DROP:
		return 1;
	case VIGIL_ACTION_DENY:
		return 2;
	}
	return 0;
}

guint64
vigil_rule_specificity(const VigilRule *rule)
{
	g_return_val_if_fail(rule != NULL, 0);

	return ((guint64)program_rank(rule) << SHIFT_PROGRAM) |
	       ((guint64)destination_rank(rule) << SHIFT_DEST) |
	       ((guint64)port_rank(rule) << SHIFT_PORT) |
	       ((guint64)(rule->proto != 0) << SHIFT_PROTO) |
	       ((guint64)!rule->all_users << SHIFT_USER) |
	       ((guint64)action_rank(rule->action) << SHIFT_ACTION);
}

/* ---- addresses ---- */

static guint
address_hash(gconstpointer key)
{
	const guint8 *bytes = key;
	guint32 hash = 2166136261u; /* FNV-1a */

	for (guint i = 0; i < sizeof(VigilAddress); i++)
		hash = (hash ^ bytes[i]) * 16777619u;
	return hash;
}

static gboolean
address_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(VigilAddress)) == 0;
}

static void
mask_address(VigilAddress *addr, guint prefix_len)
{
	for (guint i = 0; i < sizeof(addr->bytes); i++) {
		guint bit = i * 8;

		if (bit >= prefix_len)
			addr->bytes[i] = 0;
		else if (prefix_len - bit < 8)
			addr->bytes[i] &= (guint8)(0xff << (8 - (prefix_len - bit)));
	}
}

/* ---- entries and buckets ---- */

static void
entry_free(Entry *entry)
{
	vigil_rule_unref(entry->rule);
	g_clear_pointer(&entry->args, g_pattern_spec_free);
	g_free(entry);
}

static void
cidr_level_free(CidrLevel *level)
{
	g_clear_pointer(&level->nets, g_hash_table_unref);
	g_free(level);
}

static void
bucket_free(Bucket *bucket)
{
	g_clear_pointer(&bucket->hosts, g_hash_table_unref);
	g_clear_pointer(&bucket->domains, g_hash_table_unref);
	g_clear_pointer(&bucket->levels, g_ptr_array_unref);
	g_clear_pointer(&bucket->any, g_ptr_array_unref);
	g_free(bucket);
}

static GHashTable *
slot_table_new(GHashFunc hash, GEqualFunc equal)
{
	return g_hash_table_new_full(hash, equal, g_free, (GDestroyNotify)g_ptr_array_unref);
}

static void
table_insert(GHashTable **table, GHashFunc hash, GEqualFunc equal, gpointer key, gsize key_size,
             Entry *entry)
{
	GPtrArray *slot;

	if (*table == NULL)
		*table = slot_table_new(hash, equal);
	slot = g_hash_table_lookup(*table, key);
	if (slot == NULL) {
		slot = g_ptr_array_new();
		g_hash_table_insert(*table, key_size > 0 ? g_memdup2(key, key_size) : g_strdup(key),
		                    slot);
	}
	g_ptr_array_add(slot, entry);
}

static void
table_remove(GHashTable **table, gconstpointer key, Entry *entry)
{
	GPtrArray *slot = *table != NULL ? g_hash_table_lookup(*table, key) : NULL;

	if (slot == NULL)
		return;
	g_ptr_array_remove_fast(slot, entry);
	if (slot->len == 0)
		g_hash_table_remove(*table, key);
	if (g_hash_table_size(*table) == 0)
		g_clear_pointer(table, g_hash_table_unref);
}

static CidrLevel *
bucket_find_level(Bucket *bucket, int family, guint prefix_len, gboolean create)
{
	CidrLevel *level;
	guint pos = 0;

	if (bucket->levels == NULL) {
		if (!create)
			return NULL;
		bucket->levels = g_ptr_array_new_with_free_func((GDestroyNotify)cidr_level_free);
	}
	for (; pos < bucket->levels->len; pos++) {
		level = g_ptr_array_index(bucket->levels, pos);
		if (level->family == family && level->prefix_len == prefix_len)
			return level;
		if (level->prefix_len < prefix_len)
			break;
	}
	if (!create)
		return NULL;
	level = g_new0(CidrLevel, 1);
	level->family = family;
	level->prefix_len = prefix_len;
	level->nets = NULL;
	g_ptr_array_insert(bucket->levels, (gint)pos, level);
	return level;
}

static void
bucket_insert(Bucket *bucket, Entry *entry)
{
	VigilRule *rule = entry->rule;
	CidrLevel *level;

	switch (rule->target_kind) {
	case VIGIL_TARGET_HOST:
		table_insert(&bucket->hosts, g_str_hash, g_str_equal, rule->host, 0, entry);
		break;
	case VIGIL_TARGET_DOMAIN:
		table_insert(&bucket->domains, g_str_hash, g_str_equal, rule->host, 0, entry);
		break;
	case VIGIL_TARGET_CIDR:
		level = bucket_find_level(bucket, rule->family, rule->prefix_len, TRUE);
		table_insert(&level->nets, address_hash, address_equal, &rule->address,
		             sizeof(VigilAddress), entry);
		break;
	case VIGIL_TARGET_ANY:
		if (bucket->any == NULL)
			bucket->any = g_ptr_array_new();
		g_ptr_array_add(bucket->any, entry);
		break;
	}
	bucket->n_entries++;
}

static void
bucket_remove(Bucket *bucket, Entry *entry)
{
	VigilRule *rule = entry->rule;
	CidrLevel *level;

	switch (rule->target_kind) {
	case VIGIL_TARGET_HOST:
		table_remove(&bucket->hosts, rule->host, entry);
		break;
	case VIGIL_TARGET_DOMAIN:
		table_remove(&bucket->domains, rule->host, entry);
		break;
	case VIGIL_TARGET_CIDR:
		level = bucket_find_level(bucket, rule->family, rule->prefix_len, FALSE);
		if (level == NULL)
			break;
		table_remove(&level->nets, &rule->address, entry);
		if (level->nets == NULL)
			g_ptr_array_remove(bucket->levels, level);
		if (bucket->levels->len == 0)
			g_clear_pointer(&bucket->levels, g_ptr_array_unref);
		break;
	case VIGIL_TARGET_ANY:
		if (bucket->any != NULL)
			g_ptr_array_remove_fast(bucket->any, entry);
		if (bucket->any != NULL && bucket->any->len == 0)
			g_clear_pointer(&bucket->any, g_ptr_array_unref);
		break;
	}
	bucket->n_entries--;
}

static Bucket *
ruleset_bucket(VigilRuleset *set, const VigilRule *rule, gboolean create)
{
	Bucket *bucket;

	if (rule->program == NULL)
		return set->any_program;
	if (g_str_equal(rule->program, VIGIL_PROGRAM_UNKNOWN))
		return set->unknown_program;
	bucket = g_hash_table_lookup(set->programs, rule->program);
	if (bucket == NULL && create) {
		bucket = g_new0(Bucket, 1);
		g_hash_table_insert(set->programs, g_strdup(rule->program), bucket);
	}
	return bucket;
}

/* ---- the set ---- */

VigilRuleset *
vigil_ruleset_new(void)
{
	VigilRuleset *set = g_new0(VigilRuleset, 1);

	set->by_id =
	    g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)entry_free);
	set->programs =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)bucket_free);
	set->any_program = g_new0(Bucket, 1);
	set->unknown_program = g_new0(Bucket, 1);
	set->next_id = 1;
	return set;
}

void
vigil_ruleset_free(VigilRuleset *set)
{
	if (set == NULL)
		return;
	/* buckets first: they point into the entries */
	g_hash_table_unref(set->programs);
	bucket_free(set->any_program);
	bucket_free(set->unknown_program);
	g_hash_table_unref(set->by_id);
	g_free(set);
}

gboolean
vigil_ruleset_add(VigilRuleset *set, VigilRule *rule)
{
	Entry *entry;

	g_return_val_if_fail(set != NULL && rule != NULL, FALSE);

	if (rule->id == 0) {
		if (set->next_id >= VIGIL_RULE_ID_SYSTEM_BASE)
			return FALSE;
		rule->id = set->next_id;
	}
	if (g_hash_table_contains(set->by_id, &rule->id))
		return FALSE;
	if (rule->id < VIGIL_RULE_ID_SYSTEM_BASE)
		set->next_id = MAX(set->next_id, rule->id + 1);

	entry = g_new0(Entry, 1);
	entry->rule = vigil_rule_ref(rule);
	entry->specificity = vigil_rule_specificity(rule);
	if (rule->args_glob != NULL)
		entry->args = g_pattern_spec_new(rule->args_glob);
	/* the key lives in the rule, whose id does not change while it is in the set */
	g_hash_table_insert(set->by_id, &entry->rule->id, entry);
	bucket_insert(ruleset_bucket(set, rule, TRUE), entry);
	return TRUE;
}

gboolean
vigil_ruleset_remove(VigilRuleset *set, guint64 id)
{
	Entry *entry;
	Bucket *bucket;

	g_return_val_if_fail(set != NULL, FALSE);

	entry = g_hash_table_lookup(set->by_id, &id);
	if (entry == NULL)
		return FALSE;
	bucket = ruleset_bucket(set, entry->rule, FALSE);
	if (bucket != NULL) {
		bucket_remove(bucket, entry);
		if (bucket->n_entries == 0 && bucket != set->any_program &&
		    bucket != set->unknown_program)
			g_hash_table_remove(set->programs, entry->rule->program);
	}
	g_hash_table_remove(set->by_id, &id);
	return TRUE;
}

VigilRule *
vigil_ruleset_lookup(VigilRuleset *set, guint64 id)
{
	Entry *entry;

	g_return_val_if_fail(set != NULL, NULL);
	entry = g_hash_table_lookup(set->by_id, &id);
	return entry != NULL ? entry->rule : NULL;
}

static gint
compare_by_id(gconstpointer a, gconstpointer b)
{
	const VigilRule *ra = *(VigilRule *const *)a;
	const VigilRule *rb = *(VigilRule *const *)b;

	return ra->id < rb->id ? -1 : ra->id > rb->id;
}

GPtrArray *
vigil_ruleset_list(VigilRuleset *set)
{
	GPtrArray *rules;
	GHashTableIter iter;
	Entry *entry;

	g_return_val_if_fail(set != NULL, NULL);

	rules =
	    g_ptr_array_new_full(g_hash_table_size(set->by_id), (GDestroyNotify)vigil_rule_unref);
	g_hash_table_iter_init(&iter, set->by_id);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry))
		g_ptr_array_add(rules, vigil_rule_ref(entry->rule));
	g_ptr_array_sort(rules, compare_by_id);
	return rules;
}

guint
vigil_ruleset_size(VigilRuleset *set)
{
	g_return_val_if_fail(set != NULL, 0);
	return g_hash_table_size(set->by_id);
}

void
vigil_ruleset_clear(VigilRuleset *set)
{
	g_return_if_fail(set != NULL);

	g_hash_table_remove_all(set->programs);
	bucket_free(set->any_program);
	bucket_free(set->unknown_program);
	set->any_program = g_new0(Bucket, 1);
	set->unknown_program = g_new0(Bucket, 1);
	g_hash_table_remove_all(set->by_id);
}

typedef gboolean (*RulePredicate)(const VigilRule *rule, gconstpointer data);

static guint
remove_where(VigilRuleset *set, RulePredicate predicate, gconstpointer data)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	GHashTableIter iter;
	Entry *entry;

	g_hash_table_iter_init(&iter, set->by_id);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
		if (predicate(entry->rule, data))
			g_array_append_val(ids, entry->rule->id);
	}
	for (guint i = 0; i < ids->len; i++)
		vigil_ruleset_remove(set, g_array_index(ids, guint64, i));
	return ids->len;
}

static gboolean
is_expired(const VigilRule *rule, gconstpointer data)
{
	return vigil_rule_is_expired(rule, *(const gint64 *)data);
}

guint
vigil_ruleset_expire(VigilRuleset *set, gint64 now)
{
	g_return_val_if_fail(set != NULL, 0);
	return remove_where(set, is_expired, &now);
}

static gboolean
is_bound_to_pid(const VigilRule *rule, gconstpointer data)
{
	return rule->lifetime == VIGIL_LIFETIME_PROCESS_EXIT && rule->pid == *(const guint32 *)data;
}

guint
vigil_ruleset_expire_process(VigilRuleset *set, guint32 pid)
{
	g_return_val_if_fail(set != NULL, 0);
	return remove_where(set, is_bound_to_pid, &pid);
}

guint
vigil_ruleset_get_examined(VigilRuleset *set)
{
	g_return_val_if_fail(set != NULL, 0);
	return set->examined;
}

/* ---- matching ---- */

typedef struct {
	VigilRuleset *set;
	const VigilMatchQuery *query;
	gint64 now;
	Entry *best;
} Search;

static gboolean
port_matches(const GArray *ports, guint16 port)
{
	if (ports == NULL || ports->len == 0)
		return TRUE;
	for (guint i = 0; i < ports->len; i++) {
		const VigilPortRange *r = &g_array_index(ports, VigilPortRange, i);

		if (port >= r->first && port <= r->last)
			return TRUE;
	}
	return FALSE;
}

static gboolean
proto_matches(guint8 rule_proto, guint8 proto)
{
	if (rule_proto == 0 || rule_proto == proto)
		return TRUE;
	return rule_proto == IPPROTO_ICMP && proto == IPPROTO_ICMPV6;
}

/* everything but program and destination, which the index has already matched */
static gboolean
entry_matches(const Entry *entry, const VigilMatchQuery *q, gint64 now)
{
	const VigilRule *rule = entry->rule;

	if (!rule->enabled || vigil_rule_is_expired(rule, now))
		return FALSE;
	if (!rule->all_users && rule->uid != q->uid)
		return FALSE;
	if (rule->sha256 != NULL &&
	    (q->sha256 == NULL || g_ascii_strcasecmp(rule->sha256, q->sha256) != 0))
		return FALSE;
	if (entry->args != NULL &&
	    (q->cmdline == NULL || !g_pattern_spec_match_string(entry->args, q->cmdline)))
		return FALSE;
	if (rule->app_id != NULL && g_strcmp0(rule->app_id, q->app_id) != 0)
		return FALSE;
	return port_matches(rule->ports, q->dport) && proto_matches(rule->proto, q->protocol);
}

static void
consider_slot(Search *search, const GPtrArray *slot)
{
	if (slot == NULL)
		return;
	for (guint i = 0; i < slot->len; i++) {
		Entry *entry = g_ptr_array_index(slot, i);

		search->set->examined++;
		if (!entry_matches(entry, search->query, search->now))
			continue;
		if (search->best == NULL || entry->specificity > search->best->specificity ||
		    (entry->specificity == search->best->specificity &&
		     entry->rule->id < search->best->rule->id))
			search->best = entry;
	}
}

static GPtrArray *
slot_lookup(GHashTable *table, gconstpointer key)
{
	return table != NULL ? g_hash_table_lookup(table, key) : NULL;
}

/* lowercase, without a trailing dot, into @buf; FALSE when it cannot be a rule's host */
static gboolean
normalize_query_name(const char *name, char *buf, gsize size)
{
	gsize len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= size)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		buf[i] = g_ascii_tolower(name[i]);
	buf[len] = '\0';
	return TRUE;
}

static void
search_names(Search *search, Bucket *bucket)
{
	const char *const *names = search->query->hostnames;

	if (names == NULL || (bucket->hosts == NULL && bucket->domains == NULL))
		return;
	for (guint i = 0; names[i] != NULL; i++) {
		char name[256];

		if (!normalize_query_name(names[i], name, sizeof(name)))
			continue;
		consider_slot(search, slot_lookup(bucket->hosts, name));
		if (bucket->domains == NULL)
			continue;
		/* "*.example.com" covers example.com and every name below it */
		for (const char *suffix = name; suffix != NULL;) {
			const char *dot = strchr(suffix, '.');

			consider_slot(search, slot_lookup(bucket->domains, suffix));
			suffix = dot != NULL ? dot + 1 : NULL;
		}
	}
}

static void
search_networks(Search *search, Bucket *bucket)
{
	if (bucket->levels == NULL)
		return;
	for (guint i = 0; i < bucket->levels->len; i++) {
		CidrLevel *level = g_ptr_array_index(bucket->levels, i);
		VigilAddress net;

		if (level->family != search->query->family)
			continue;
		net = search->query->dst;
		mask_address(&net, level->prefix_len);
		consider_slot(search, slot_lookup(level->nets, &net));
	}
}

static void
search_bucket(Search *search, Bucket *bucket)
{
	if (bucket == NULL || bucket->n_entries == 0)
		return;
	search_names(search, bucket);
	search_networks(search, bucket);
	consider_slot(search, bucket->any);
}

VigilRule *
vigil_ruleset_match(VigilRuleset *set, const VigilMatchQuery *query, gint64 now)
{
	Search search = {.set = set, .query = query, .now = now};

	g_return_val_if_fail(set != NULL && query != NULL, NULL);

	set->examined = 0;
	if (query->program != NULL)
		search_bucket(&search, g_hash_table_lookup(set->programs, query->program));
	else
		search_bucket(&search, set->unknown_program);
	search_bucket(&search, set->any_program);
	if (search.best == NULL)
		return NULL;
	search.best->rule->hits++;
	search.best->rule->last_hit = now;
	return search.best->rule;
}
