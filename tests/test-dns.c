/* test-dns.c: the DNS parser on crafted messages, and the watcher matching answers to queries */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "test-util.h"
#include "vigil-dns-watch.h"
#include "vigil-dns.h"

/* --- building messages ------------------------------------------------------------------- */

static void
set_u16(GByteArray *m, guint offset, guint16 v)
{
	m->data[offset] = v >> 8;
	m->data[offset + 1] = v & 0xff;
}

/* "www.example.com" as labels, ending with a root label unless @pointer is not 0 */
static void
put_name(GByteArray *m, const char *name, guint16 pointer)
{
	g_auto(GStrv) labels = g_strsplit(name, ".", -1);

	for (guint i = 0; name[0] != '\0' && labels[i] != NULL; i++) {
		guint8 len = (guint8)strlen(labels[i]);
		g_byte_array_append(m, &len, 1);
		g_byte_array_append(m, (const guint8 *)labels[i], len);
	}
	if (pointer != 0) {
		vigil_test_put16(m, 0xc000 | pointer);
	} else {
		guint8 zero = 0;
		g_byte_array_append(m, &zero, 1);
	}
}

#define QNAME_OFFSET 12

/* a header with these counts and one question */
static GByteArray *
new_message(guint16 id, gboolean response, const char *qname, guint16 qtype, guint16 ancount,
            guint16 nscount, guint16 arcount)
{
	GByteArray *m = g_byte_array_new();

	vigil_test_put16(m, id);
	vigil_test_put16(m, response ? 0x8180 : 0x0100);
	vigil_test_put16(m, 1);
	vigil_test_put16(m, ancount);
	vigil_test_put16(m, nscount);
	vigil_test_put16(m, arcount);
	put_name(m, qname, 0);
	vigil_test_put16(m, qtype);
	vigil_test_put16(m, VIGIL_DNS_CLASS_IN);
	return m;
}

/* a record whose owner is @owner (or, with @owner NULL, a pointer to the question) */
static void
put_record_header(GByteArray *m, const char *owner, guint16 type, guint16 rclass, guint32 ttl)
{
	if (owner == NULL)
		vigil_test_put16(m, 0xc000 | QNAME_OFFSET);
	else
		put_name(m, owner, 0);
	vigil_test_put16(m, type);
	vigil_test_put16(m, rclass);
	vigil_test_put32(m, ttl);
}

static void
put_a(GByteArray *m, const char *owner, const char *addr, guint32 ttl)
{
	guint8 bytes[4];

	g_assert_cmpint(inet_pton(AF_INET, addr, bytes), ==, 1);
	put_record_header(m, owner, VIGIL_DNS_TYPE_A, VIGIL_DNS_CLASS_IN, ttl);
	vigil_test_put16(m, 4);
	g_byte_array_append(m, bytes, 4);
}

static void
put_aaaa(GByteArray *m, const char *owner, const char *addr, guint32 ttl)
{
	guint8 bytes[16];

	g_assert_cmpint(inet_pton(AF_INET6, addr, bytes), ==, 1);
	put_record_header(m, owner, VIGIL_DNS_TYPE_AAAA, VIGIL_DNS_CLASS_IN, ttl);
	vigil_test_put16(m, 16);
	g_byte_array_append(m, bytes, 16);
}

static void
put_cname(GByteArray *m, const char *owner, const char *target, guint32 ttl)
{
	guint len_at;

	put_record_header(m, owner, VIGIL_DNS_TYPE_CNAME, VIGIL_DNS_CLASS_IN, ttl);
	len_at = m->len;
	vigil_test_put16(m, 0);
	put_name(m, target, 0);
	set_u16(m, len_at, (guint16)(m->len - len_at - 2));
}

static char *
answer_address(const VigilDnsMessage *msg, guint i)
{
	const VigilDnsAnswer *a = &g_array_index(msg->answers, VigilDnsAnswer, i);
	char buf[INET6_ADDRSTRLEN];

	return g_strdup(vigil_address_to_string(a->family, &a->address, buf, sizeof buf));
}

static guint32
answer_ttl(const VigilDnsMessage *msg, guint i)
{
	return g_array_index(msg->answers, VigilDnsAnswer, i).ttl;
}

static void
assert_parse_fails(GByteArray *m, VigilDnsError code)
{
	g_auto(VigilDnsMessage) msg = {0};
	g_autoptr(GError) error = NULL;

	g_assert_false(vigil_dns_parse(m->data, m->len, &msg, &error));
	g_assert_error(error, VIGIL_DNS_ERROR, (gint)code);
	g_assert_null(msg.answers);
}

/* --- the parser ------------------------------------------------------------------------- */

static void
test_query(void)
{
	g_autoptr(GByteArray) m = new_message(0xbeef, FALSE, "WwW.Example.COM", 28, 0, 0, 0);
	g_auto(VigilDnsMessage) msg = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(vigil_dns_parse(m->data, m->len, &msg, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(msg.id, ==, 0xbeef);
	g_assert_false(msg.response);
	g_assert_cmpstr(msg.qname, ==, "www.example.com");
	g_assert_cmpuint(msg.qtype, ==, VIGIL_DNS_TYPE_AAAA);
	g_assert_cmpuint(msg.qclass, ==, VIGIL_DNS_CLASS_IN);
	g_assert_cmpuint(msg.answers->len, ==, 0);
}

static void
test_a_and_aaaa(void)
{
	g_autoptr(GByteArray) m = new_message(7, TRUE, "ok.example.test", 1, 3, 0, 0);
	g_auto(VigilDnsMessage) msg = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *a0 = NULL, *a1 = NULL, *a2 = NULL;

	put_a(m, NULL, "192.0.2.1", 300);
	put_a(m, "OK.example.test", "192.0.2.2", 20);
	put_aaaa(m, NULL, "2001:db8::1", 60);
	g_assert_true(vigil_dns_parse(m->data, m->len, &msg, &error));
	g_assert_no_error(error);
	g_assert_true(msg.response);
	g_assert_cmpuint(msg.rcode, ==, 0);
	g_assert_cmpuint(msg.answers->len, ==, 3);
	a0 = answer_address(&msg, 0);
	a1 = answer_address(&msg, 1);
	a2 = answer_address(&msg, 2);
	g_assert_cmpstr(a0, ==, "192.0.2.1");
	g_assert_cmpstr(a1, ==, "192.0.2.2");
	g_assert_cmpstr(a2, ==, "2001:db8::1");
	g_assert_cmpuint(answer_ttl(&msg, 0), ==, 300);
	g_assert_cmpuint(answer_ttl(&msg, 1), ==, 20);
	g_assert_cmpuint(answer_ttl(&msg, 2), ==, 60);
}

static void
test_cname_chain_any_order(void)
{
	/* the chain's records come in reverse order; the answer's TTL is the chain's smallest */
	g_autoptr(GByteArray) m = new_message(7, TRUE, "www.example.com", 1, 3, 0, 0);
	g_auto(VigilDnsMessage) msg = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *a0 = NULL;

	put_a(m, "edge.cdn.example.net", "198.51.100.7", 120);
	put_cname(m, "cdn.example.net", "edge.cdn.example.net", 60);
	put_cname(m, NULL, "cdn.example.net", 300);
	g_assert_true(vigil_dns_parse(m->data, m->len, &msg, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(msg.answers->len, ==, 1);
	a0 = answer_address(&msg, 0);
	g_assert_cmpstr(a0, ==, "198.51.100.7");
	g_assert_cmpuint(answer_ttl(&msg, 0), ==, 60);
}

static void
test_records_for_other_names_ignored(void)
{
	/* an answer may only name addresses for the question; extra sections never count */
	g_autoptr(GByteArray) m = new_message(7, TRUE, "ok.example.test", 1, 2, 1, 1);
	g_auto(VigilDnsMessage) msg = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *a0 = NULL;

	put_a(m, "bank.example.org", "203.0.113.66", 300);
	put_a(m, NULL, "192.0.2.1", 300);
	put_a(m, NULL, "203.0.113.67", 300);              /* authority */
	put_a(m, "ok.example.test", "203.0.113.68", 300); /* additional */
	g_assert_true(vigil_dns_parse(m->data, m->len, &msg, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(msg.answers->len, ==, 1);
	a0 = answer_address(&msg, 0);
	g_assert_cmpstr(a0, ==, "192.0.2.1");
}

static void
test_cname_loop_ends(void)
{
	g_autoptr(GByteArray) m = new_message(7, TRUE, "a.example", 1, 3, 0, 0);
	g_auto(VigilDnsMessage) msg = {0};
	g_autoptr(GError) error = NULL;

	put_cname(m, NULL, "b.example", 60);
	put_cname(m, "b.example", "a.example", 60);
	put_a(m, "c.example", "192.0.2.9", 60);
	g_assert_true(vigil_dns_parse(m->data, m->len, &msg, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(msg.answers->len, ==, 0);
}

static void
test_other_class_and_ttl_top_bit(void)
{
	g_autoptr(GByteArray) m = new_message(7, TRUE, "x.example", 1, 2, 0, 0);
	g_auto(VigilDnsMessage) msg = {0};
	g_autoptr(GError) error = NULL;
	guint8 addr[4] = {192, 0, 2, 3};

	/* CHAOS class: not an address on the internet */
	put_record_header(m, NULL, VIGIL_DNS_TYPE_A, 3, 60);
	vigil_test_put16(m, 4);
	g_byte_array_append(m, addr, 4);
	put_a(m, NULL, "192.0.2.4", 0x80000000u);
	g_assert_true(vigil_dns_parse(m->data, m->len, &msg, &error));
	g_assert_cmpuint(msg.answers->len, ==, 1);
	g_assert_cmpuint(answer_ttl(&msg, 0), ==, 0);
}

static void
test_compression_pointer_loops(void)
{
	/* a pointer to itself, to the byte after it, and two pointing at each other */
	for (int variant = 0; variant < 4; variant++) {
		g_autoptr(GByteArray) m = new_message(7, TRUE, "x.example", 1, 1, 0, 0);
		guint at = m->len;

		switch (variant) {
		case 0:
			vigil_test_put16(m, 0xc000 | at);
			break;
		case 1:
			vigil_test_put16(m, 0xc000 | (at + 2));
			vigil_test_put16(m, 0xc000 | at);
			break;
		case 2: {
			/* label "a" then a pointer back to that label: a -> a -> a ... */
			guint8 label[] = {1, 'a'};
			g_byte_array_append(m, label, 2);
			vigil_test_put16(m, 0xc000 | at);
			break;
		}
		case 3:
			/* into the middle of the header: points back but reads garbage labels */
			vigil_test_put16(m, 0xc000 | 2);
			break;
		}
		vigil_test_put16(m, 1);
		vigil_test_put16(m, 1);
		vigil_test_put32(m, 60);
		vigil_test_put16(m, 4);
		vigil_test_put32(m, 0xc0000201);
		if (variant == 3) {
			g_auto(VigilDnsMessage) msg = {0};
			/* whatever the bytes say, it ends; and names nothing for the question */
			if (vigil_dns_parse(m->data, m->len, &msg, NULL))
				g_assert_cmpuint(msg.answers->len, ==, 0);
		} else {
			assert_parse_fails(m, VIGIL_DNS_ERROR_BAD_POINTER);
		}
	}
}

static void
test_pointer_out_of_range(void)
{
	g_autoptr(GByteArray) m = new_message(7, TRUE, "x.example", 1, 1, 0, 0);

	vigil_test_put16(m, 0xc000 | 0x3fff);
	vigil_test_put16(m, 1);
	vigil_test_put16(m, 1);
	vigil_test_put32(m, 60);
	vigil_test_put16(m, 4);
	vigil_test_put32(m, 0xc0000201);
	assert_parse_fails(m, VIGIL_DNS_ERROR_BAD_POINTER);
}

static void
test_pointer_in_question(void)
{
	/* the question cannot point anywhere: nothing comes before it but the header */
	GByteArray *m = g_byte_array_new();
	g_autoptr(GByteArray) owned = m;

	vigil_test_put16(m, 1);
	vigil_test_put16(m, 0x0100);
	vigil_test_put16(m, 1);
	vigil_test_put16(m, 0);
	vigil_test_put16(m, 0);
	vigil_test_put16(m, 0);
	vigil_test_put16(m, 0xc000 | 12);
	vigil_test_put16(m, 1);
	vigil_test_put16(m, 1);
	assert_parse_fails(m, VIGIL_DNS_ERROR_BAD_POINTER);
}

static GByteArray *
rich_answer(void)
{
	GByteArray *m = new_message(0x4242, TRUE, "www.example.com", 1, 3, 1, 1);

	put_cname(m, NULL, "cdn.example.net", 300);
	put_a(m, "cdn.example.net", "198.51.100.7", 120);
	put_aaaa(m, "cdn.example.net", "2001:db8::7", 120);
	put_record_header(m, "example.net", 2 /* NS */, VIGIL_DNS_CLASS_IN, 3600);
	vigil_test_put16(m, 4);
	vigil_test_put16(m, 0xc000 | 12);
	vigil_test_put16(m, 0xc000 | 12);
	/* EDNS OPT, root owner */
	put_name(m, "", 0);
	vigil_test_put16(m, 41);
	vigil_test_put16(m, 1232);
	vigil_test_put32(m, 0);
	vigil_test_put16(m, 0);
	return m;
}

static void
test_truncation_at_every_length(void)
{
	g_autoptr(GByteArray) m = rich_answer();
	g_auto(VigilDnsMessage) full = {0};

	g_assert_true(vigil_dns_parse(m->data, m->len, &full, NULL));
	g_assert_cmpuint(full.answers->len, ==, 2);
	for (guint len = 0; len < m->len; len++) {
		/* a copy of exactly @len bytes, so the sanitizers see any read past it */
		g_autofree guint8 *copy = g_memdup2(m->data, len);
		g_auto(VigilDnsMessage) msg = {0};
		g_autoptr(GError) error = NULL;

		if (vigil_dns_parse(copy, len, &msg, &error))
			g_error("a message cut to %u of %u bytes parsed", len, m->len);
		g_assert_error(error, VIGIL_DNS_ERROR, VIGIL_DNS_ERROR_TRUNCATED);
	}
}

static void
test_oversized_counts(void)
{
	g_autoptr(GByteArray) many = new_message(7, TRUE, "x.example", 1, 65535, 0, 0);
	g_autoptr(GByteArray) extra = new_message(7, TRUE, "x.example", 1, 1, 65535, 65535);
	g_autoptr(GByteArray) two_questions = new_message(7, TRUE, "x.example", 1, 0, 0, 0);
	g_autoptr(GByteArray) no_question = new_message(7, TRUE, "x.example", 1, 0, 0, 0);
	g_autoptr(GByteArray) update = new_message(7, TRUE, "x.example", 1, 0, 0, 0);

	put_a(many, NULL, "192.0.2.1", 60);
	assert_parse_fails(many, VIGIL_DNS_ERROR_TRUNCATED);
	put_a(extra, NULL, "192.0.2.1", 60);
	assert_parse_fails(extra, VIGIL_DNS_ERROR_TRUNCATED);
	set_u16(two_questions, 4, 2);
	assert_parse_fails(two_questions, VIGIL_DNS_ERROR_UNSUPPORTED);
	set_u16(no_question, 4, 0);
	assert_parse_fails(no_question, VIGIL_DNS_ERROR_UNSUPPORTED);
	set_u16(update, 2, 0x8000 | 5 << 11); /* opcode UPDATE */
	assert_parse_fails(update, VIGIL_DNS_ERROR_UNSUPPORTED);
}

static void
test_many_records_bounded(void)
{
	/* thousands of records in one big message: parsed, the work bounded */
	g_autoptr(GByteArray) m = new_message(7, TRUE, "x.example", 1, 4000, 0, 0);
	g_auto(VigilDnsMessage) msg = {0};

	for (guint i = 0; i < 4000; i++)
		put_a(m, NULL, "192.0.2.1", 60);
	g_assert_cmpuint(m->len, <=, 65535);
	g_assert_true(vigil_dns_parse(m->data, m->len, &msg, NULL));
	g_assert_cmpuint(msg.answers->len, >=, 1);
	g_assert_cmpuint(msg.answers->len, <=, 128);
}

static void
test_bad_names(void)
{
	g_autoptr(GByteArray) reserved = new_message(7, FALSE, "x.example", 1, 0, 0, 0);
	g_autoptr(GByteArray) unsafe = new_message(7, FALSE, "x y.example", 1, 0, 0, 0);
	g_autoptr(GByteArray) newline = new_message(7, FALSE, "x\nhost=evil", 1, 0, 0, 0);
	g_autoptr(GByteArray) dotted = g_byte_array_new();
	GString *longest = g_string_new(NULL);
	g_autoptr(GByteArray) too_long = NULL;
	g_autoptr(GByteArray) fits = NULL;
	g_auto(VigilDnsMessage) msg = {0};
	guint8 label_with_dot[] = {3, 'a', '.', 'b', 0};

	reserved->data[QNAME_OFFSET] = 0x41; /* label type 01 */
	assert_parse_fails(reserved, VIGIL_DNS_ERROR_BAD_NAME);
	assert_parse_fails(unsafe, VIGIL_DNS_ERROR_BAD_NAME);
	assert_parse_fails(newline, VIGIL_DNS_ERROR_BAD_NAME);

	/* a label holding a dot would read as two labels */
	g_byte_array_append(dotted, reserved->data, QNAME_OFFSET);
	g_byte_array_append(dotted, label_with_dot, sizeof label_with_dot);
	vigil_test_put16(dotted, 1);
	vigil_test_put16(dotted, 1);
	assert_parse_fails(dotted, VIGIL_DNS_ERROR_BAD_NAME);

	/* 4 labels of 63 = 255 characters with dots: too long; 253 fits */
	for (int i = 0; i < 4; i++)
		g_string_append_printf(
		    longest, "%s%.*s", i ? "." : "", 63,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	too_long = new_message(7, FALSE, longest->str, 1, 0, 0, 0);
	assert_parse_fails(too_long, VIGIL_DNS_ERROR_BAD_NAME);
	g_string_truncate(longest, 253);
	fits = new_message(7, FALSE, longest->str, 1, 0, 0, 0);
	g_assert_true(vigil_dns_parse(fits->data, fits->len, &msg, NULL));
	g_assert_cmpuint(strlen(msg.qname), ==, 253);
	g_string_free(longest, TRUE);
}

static void
test_unsafe_names_in_answers_ignored(void)
{
	g_autoptr(GByteArray) m = new_message(7, TRUE, "x.example", 1, 3, 0, 0);
	g_auto(VigilDnsMessage) msg = {0};
	g_autofree char *a0 = NULL;

	put_cname(m, NULL, "we ird.example", 60);
	put_a(m, "we ird.example", "192.0.2.66", 60);
	put_a(m, NULL, "192.0.2.1", 60);
	g_assert_true(vigil_dns_parse(m->data, m->len, &msg, NULL));
	g_assert_cmpuint(msg.answers->len, ==, 1);
	a0 = answer_address(&msg, 0);
	g_assert_cmpstr(a0, ==, "192.0.2.1");
}

static void
test_bad_rdata(void)
{
	g_autoptr(GByteArray) short_a = new_message(7, TRUE, "x.example", 1, 1, 0, 0);
	g_autoptr(GByteArray) long_cname = new_message(7, TRUE, "x.example", 1, 2, 0, 0);
	guint8 five[5] = {192, 0, 2, 1, 0};

	put_record_header(short_a, NULL, VIGIL_DNS_TYPE_A, VIGIL_DNS_CLASS_IN, 60);
	vigil_test_put16(short_a, 5);
	g_byte_array_append(short_a, five, 5);
	assert_parse_fails(short_a, VIGIL_DNS_ERROR_MALFORMED);

	/* a CNAME whose name runs past its data length into the next record */
	put_record_header(long_cname, NULL, VIGIL_DNS_TYPE_CNAME, VIGIL_DNS_CLASS_IN, 60);
	vigil_test_put16(long_cname, 3);
	put_name(long_cname, "b.example", 0);
	put_a(long_cname, "b.example", "192.0.2.1", 60);
	g_assert_false(
	    vigil_dns_parse(long_cname->data, long_cname->len, &(VigilDnsMessage){0}, NULL));
}

/* flips bits of a valid message: whatever comes out, nothing is read out of bounds */
static void
test_mutations(void)
{
	g_autoptr(GByteArray) m = rich_answer();
	GRand *rand = g_rand_new_with_seed(20240501);

	for (guint round = 0; round < 20000; round++) {
		g_autofree guint8 *copy = g_memdup2(m->data, m->len);
		g_auto(VigilDnsMessage) msg = {0};
		guint flips = 1 + g_rand_int_range(rand, 0, 4);
		guint len = m->len - (guint)g_rand_int_range(rand, 0, 3);

		for (guint i = 0; i < flips; i++)
			copy[g_rand_int_range(rand, 0, (gint32)m->len)] ^=
			    1 << g_rand_int_range(rand, 0, 8);
		if (vigil_dns_parse(copy, len, &msg, NULL)) {
			g_assert_nonnull(msg.answers);
			g_assert_cmpuint(strlen(msg.qname), <, VIGIL_DNS_NAME_SIZE);
		}
	}
	g_rand_free(rand);
}

/* --- the watcher: answers count only for queries this host sent ---------------------------- */

typedef struct {
	int family;
	const char *client;
	const char *server;
	guint16 client_port;
	guint8 protocol;
} Path;

static const Path udp4 = {AF_INET, "10.0.0.1", "10.0.0.53", 40000, IPPROTO_UDP};

/* an IP packet carrying @payload between the path's ends; @sent: client to server */
static GByteArray *
make_packet(const Path *path, gboolean sent, const guint8 *payload, gsize len, guint32 seq,
            guint8 tcp_flags)
{
	GByteArray *p = g_byte_array_new();
	guint8 src[16], dst[16];
	gsize l4_len = (path->protocol == IPPROTO_UDP ? 8 : 20) + len;
	guint16 sport = sent ? path->client_port : 53;
	guint16 dport = sent ? 53 : path->client_port;

	inet_pton(path->family, sent ? path->client : path->server, src);
	inet_pton(path->family, sent ? path->server : path->client, dst);
	if (path->family == AF_INET) {
		guint8 hdr[20] = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, path->protocol};
		hdr[2] = (guint8)((20 + l4_len) >> 8);
		hdr[3] = (guint8)((20 + l4_len) & 0xff);
		memcpy(hdr + 12, src, 4);
		memcpy(hdr + 16, dst, 4);
		g_byte_array_append(p, hdr, 20);
	} else {
		guint8 hdr[40] = {0x60, 0, 0, 0, 0, 0, path->protocol, 64};
		hdr[4] = (guint8)(l4_len >> 8);
		hdr[5] = (guint8)(l4_len & 0xff);
		memcpy(hdr + 8, src, 16);
		memcpy(hdr + 24, dst, 16);
		g_byte_array_append(p, hdr, 40);
	}
	vigil_test_put16(p, sport);
	vigil_test_put16(p, dport);
	if (path->protocol == IPPROTO_UDP) {
		vigil_test_put16(p, (guint16)l4_len);
		vigil_test_put16(p, 0);
	} else {
		guint8 rest[12] = {0, 0, 0, 0, 5 << 4, tcp_flags, 0xff, 0xff};
		vigil_test_put32(p, seq);
		g_byte_array_append(p, rest, 12);
	}
	g_byte_array_append(p, payload, (guint)len);
	return p;
}

typedef struct {
	VigilDnsCache *cache;
	VigilDnsWatch *watch;
	gint64 now;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	f->cache = vigil_dns_cache_new(1024, 30, 86400);
	f->watch = vigil_dns_watch_new(f->cache);
	f->now = 1000 * G_USEC_PER_SEC;
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	vigil_dns_watch_free(f->watch);
	vigil_dns_cache_free(f->cache);
}

static void
feed(Fixture *f, const Path *path, gboolean sent, GByteArray *msg, guint32 uid)
{
	g_autoptr(GByteArray) p = make_packet(path, sent, msg->data, msg->len, 0, 0);

	vigil_dns_watch_handle_packet(f->watch,
	                              sent ? VIGIL_DNS_PACKET_SENT : VIGIL_DNS_PACKET_RECEIVED,
	                              p->data, p->len, uid != G_MAXUINT32, uid, f->now);
}

static GByteArray *
query_for(guint16 id, const char *name, guint16 qtype)
{
	return new_message(id, FALSE, name, qtype, 0, 0, 0);
}

static GByteArray *
answer_for(guint16 id, const char *name, const char *addr)
{
	gboolean v6 = strchr(addr, ':') != NULL;
	GByteArray *m = new_message(id, TRUE, name, v6 ? 28 : 1, 1, 0, 0);

	if (v6)
		put_aaaa(m, NULL, addr, 60);
	else
		put_a(m, NULL, addr, 60);
	return m;
}

/* the first name @uid knows for @addr, or NULL */
static char *
name_of(Fixture *f, guint32 uid, const char *addr)
{
	VigilAddress a = {0};
	int family;
	g_auto(GStrv) names = NULL;

	g_assert_true(vigil_address_parse(addr, &family, &a));
	names = vigil_dns_cache_lookup(f->cache, uid, family, &a, f->now);
	return names != NULL ? g_strdup(names[0]) : NULL;
}

static void
assert_name(Fixture *f, guint32 uid, const char *addr, const char *expected)
{
	g_autofree char *name = name_of(f, uid, addr);

	g_assert_cmpstr(name, ==, expected);
}

static void
test_watch_answer_to_query(Fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) q = query_for(0x1234, "Ok.Example.Test", 1);
	g_autoptr(GByteArray) a = answer_for(0x1234, "ok.example.test", "10.201.0.10");
	VigilDnsWatchStats stats;

	feed(f, &udp4, TRUE, q, 1000);
	feed(f, &udp4, FALSE, a, G_MAXUINT32);
	assert_name(f, 1000, "10.201.0.10", "ok.example.test");
	/* another user's connection to the same address is not named by this lookup */
	assert_name(f, 1001, "10.201.0.10", NULL);
	vigil_dns_watch_get_stats(f->watch, &stats);
	g_assert_cmpuint(stats.queries, ==, 1);
	g_assert_cmpuint(stats.answers, ==, 1);
	g_assert_cmpuint(stats.names, ==, 1);
	g_assert_cmpuint(stats.unsolicited, ==, 0);
}

static void
test_watch_unsolicited_answer(Fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) a = answer_for(0x1234, "bank.example", "10.201.0.66");
	VigilDnsWatchStats stats;

	feed(f, &udp4, FALSE, a, G_MAXUINT32);
	assert_name(f, 1000, "10.201.0.66", NULL);
	assert_name(f, VIGIL_DNS_CACHE_ANY_UID, "10.201.0.66", NULL);
	g_assert_cmpuint(vigil_dns_cache_size(f->cache), ==, 0);
	vigil_dns_watch_get_stats(f->watch, &stats);
	g_assert_cmpuint(stats.unsolicited, ==, 1);
}

static void
test_watch_answer_must_match_every_detail(Fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) q = query_for(0x1234, "ok.example.test", 1);
	g_autoptr(GByteArray) wrong_id = answer_for(0x1235, "ok.example.test", "10.201.0.66");
	g_autoptr(GByteArray) wrong_name = answer_for(0x1234, "bank.example", "10.201.0.67");
	g_autoptr(GByteArray) wrong_type = answer_for(0x1234, "ok.example.test", "fd00::66");
	g_autoptr(GByteArray) good = answer_for(0x1234, "ok.example.test", "10.201.0.10");
	g_autoptr(GByteArray) replay = answer_for(0x1234, "ok.example.test", "10.201.0.68");
	Path other_port = udp4, other_server = udp4;
	VigilDnsWatchStats stats;

	other_port.client_port = 40001;
	other_server.server = "10.0.0.54";
	feed(f, &udp4, TRUE, q, 1000);
	feed(f, &udp4, FALSE, wrong_id, G_MAXUINT32);
	feed(f, &udp4, FALSE, wrong_name, G_MAXUINT32);
	feed(f, &udp4, FALSE, wrong_type, G_MAXUINT32);
	feed(f, &other_port, FALSE, good, G_MAXUINT32);
	feed(f, &other_server, FALSE, good, G_MAXUINT32);
	g_assert_cmpuint(vigil_dns_cache_size(f->cache), ==, 0);
	/* none of the forgeries used up the query: the real answer still counts, once */
	feed(f, &udp4, FALSE, good, G_MAXUINT32);
	feed(f, &udp4, FALSE, replay, G_MAXUINT32);
	assert_name(f, 1000, "10.201.0.10", "ok.example.test");
	assert_name(f, 1000, "10.201.0.68", NULL);
	g_assert_cmpuint(vigil_dns_cache_size(f->cache), ==, 1);
	vigil_dns_watch_get_stats(f->watch, &stats);
	g_assert_cmpuint(stats.unsolicited, ==, 6);
}

static void
test_watch_direction_and_ports(Fixture *f, gconstpointer data)
{
	/* an answer leaving this host (a local server answering others) is no answer to us;
	 * a query arriving from outside is not our query */
	g_autoptr(GByteArray) q = query_for(9, "x.example", 1);
	g_autoptr(GByteArray) a = answer_for(9, "x.example", "10.201.0.10");
	g_autoptr(GByteArray) qp = make_packet(&udp4, FALSE, q->data, q->len, 0, 0);
	g_autoptr(GByteArray) ap = make_packet(&udp4, TRUE, a->data, a->len, 0, 0);

	vigil_dns_watch_handle_packet(f->watch, VIGIL_DNS_PACKET_RECEIVED, qp->data, qp->len, FALSE,
	                              0, f->now);
	vigil_dns_watch_handle_packet(f->watch, VIGIL_DNS_PACKET_SENT, ap->data, ap->len, FALSE, 0,
	                              f->now);
	feed(f, &udp4, FALSE, a, G_MAXUINT32);
	g_assert_cmpuint(vigil_dns_cache_size(f->cache), ==, 0);
}

static void
test_watch_query_times_out(Fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) q = query_for(9, "x.example", 1);
	g_autoptr(GByteArray) a = answer_for(9, "x.example", "10.201.0.10");

	feed(f, &udp4, TRUE, q, 0);
	f->now += 31 * G_USEC_PER_SEC;
	vigil_dns_watch_expire(f->watch, f->now);
	feed(f, &udp4, FALSE, a, G_MAXUINT32);
	assert_name(f, 0, "10.201.0.10", NULL);
}

static void
test_watch_ipv6_and_loopback(Fixture *f, gconstpointer data)
{
	Path v6 = {AF_INET6, "fd00:201::1", "fd00:201::2", 5555, IPPROTO_UDP};
	Path stub = {AF_INET, "127.0.0.1", "127.0.0.53", 6666, IPPROTO_UDP};
	g_autoptr(GByteArray) q6 = query_for(1, "v6.example.test", 28);
	g_autoptr(GByteArray) a6 = answer_for(1, "v6.example.test", "fd00:201::10");
	g_autoptr(GByteArray) qs = query_for(2, "stub.example.test", 1);
	g_autoptr(GByteArray) as = answer_for(2, "stub.example.test", "10.201.0.11");

	feed(f, &v6, TRUE, q6, 1000);
	feed(f, &v6, FALSE, a6, G_MAXUINT32);
	feed(f, &stub, TRUE, qs, 1000);
	feed(f, &stub, FALSE, as, G_MAXUINT32);
	assert_name(f, 1000, "fd00:201::10", "v6.example.test");
	assert_name(f, 1000, "10.201.0.11", "stub.example.test");
}

/* a query the kernel gave no socket owner for is nobody's lookup: its answer names nothing */
static void
test_watch_unknown_sender_names_nothing(Fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) q = query_for(3, "x.example", 1);
	g_autoptr(GByteArray) a = answer_for(3, "x.example", "10.201.0.10");

	feed(f, &udp4, TRUE, q, G_MAXUINT32);
	feed(f, &udp4, FALSE, a, G_MAXUINT32);
	assert_name(f, 1000, "10.201.0.10", NULL);
	assert_name(f, 0, "10.201.0.10", NULL);
	g_assert_cmpuint(vigil_dns_cache_size(f->cache), ==, 0);
}

/* one user's flood of queries never costs another user the answer to theirs */
static void
test_watch_query_flood_is_the_flooders_loss(Fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) q = query_for(40000, "mine.example", 1);
	g_autoptr(GByteArray) a = answer_for(40000, "mine.example", "10.201.0.10");
	g_autoptr(GByteArray) last_a = answer_for(9999, "flood.example", "10.201.0.11");

	feed(f, &udp4, TRUE, q, 1000);
	for (guint16 id = 0; id < 10000; id++) {
		g_autoptr(GByteArray) flood = query_for(id, "flood.example", 1);

		feed(f, &udp4, TRUE, flood, 65534);
	}
	feed(f, &udp4, FALSE, a, G_MAXUINT32);
	feed(f, &udp4, FALSE, last_a, G_MAXUINT32);
	assert_name(f, 1000, "10.201.0.10", "mine.example");
	/* the flooder's newest query was kept, not its oldest */
	assert_name(f, 65534, "10.201.0.11", "flood.example");
}

/* DNS over TCP: a length prefix, then the message; split at @cut over two segments */
static void
feed_tcp(Fixture *f, const Path *path, gboolean sent, GByteArray *msg, guint32 isn, gsize cut,
         gboolean resend_first, guint32 uid)
{
	g_autoptr(GByteArray) framed = g_byte_array_new();
	VigilDnsDirection dir = sent ? VIGIL_DNS_PACKET_SENT : VIGIL_DNS_PACKET_RECEIVED;
	g_autoptr(GByteArray) syn = make_packet(path, sent, NULL, 0, isn, 0x02);
	g_autoptr(GByteArray) one = NULL;
	g_autoptr(GByteArray) two = NULL;

	vigil_test_put16(framed, (guint16)msg->len);
	g_byte_array_append(framed, msg->data, msg->len);
	one = make_packet(path, sent, framed->data, cut, isn + 1, 0x18);
	two = make_packet(path, sent, framed->data + cut, framed->len - cut, isn + 1 + (guint32)cut,
	                  0x18);
	vigil_dns_watch_handle_packet(f->watch, dir, syn->data, syn->len, TRUE, uid, f->now);
	vigil_dns_watch_handle_packet(f->watch, dir, one->data, one->len, TRUE, uid, f->now);
	if (resend_first)
		vigil_dns_watch_handle_packet(f->watch, dir, one->data, one->len, TRUE, uid,
		                              f->now);
	vigil_dns_watch_handle_packet(f->watch, dir, two->data, two->len, TRUE, uid, f->now);
}

static void
test_watch_tcp(Fixture *f, gconstpointer data)
{
	Path tcp = {AF_INET, "10.0.0.1", "10.0.0.53", 41000, IPPROTO_TCP};
	g_autoptr(GByteArray) q = query_for(5, "tcp.example.test", 1);
	g_autoptr(GByteArray) a = answer_for(5, "tcp.example.test", "10.201.0.12");

	feed_tcp(f, &tcp, TRUE, q, 1000, 1, FALSE, 1000);
	/* the answer split inside its length prefix, the first segment retransmitted */
	feed_tcp(f, &tcp, FALSE, a, 0xfffffff0u, 10, TRUE, 0);
	assert_name(f, 1000, "10.201.0.12", "tcp.example.test");
}

/*
 * A query for @name (id @id) sent over TCP on @path, and the server's SYN (its sequence number
 * @isn); returns the answer for it, framed with its length prefix, to be sent in pieces
 * starting at @isn + 1.
 */
static GByteArray *
start_tcp_answer(Fixture *f, const Path *path, guint16 id, const char *name, const char *addr,
                 guint32 isn)
{
	g_autoptr(GByteArray) q = query_for(id, name, 1);
	g_autoptr(GByteArray) a = answer_for(id, name, addr);
	g_autoptr(GByteArray) syn = make_packet(path, FALSE, NULL, 0, isn, 0x12);
	GByteArray *framed = g_byte_array_new();

	feed_tcp(f, path, TRUE, q, 1000, 5, FALSE, 1000);
	vigil_test_put16(framed, (guint16)a->len);
	g_byte_array_append(framed, a->data, a->len);
	vigil_dns_watch_handle_packet(f->watch, VIGIL_DNS_PACKET_RECEIVED, syn->data, syn->len,
	                              FALSE, 0, f->now);
	return framed;
}

/* bytes [@from, @to) of @framed as the server's segment, the stream's data starting at @seq */
static void
feed_piece(Fixture *f, const Path *path, GByteArray *framed, gsize from, gsize to, guint32 seq)
{
	g_autoptr(GByteArray) piece =
	    make_packet(path, FALSE, framed->data + from, to - from, seq + (guint32)from, 0x18);
	vigil_dns_watch_handle_packet(f->watch, VIGIL_DNS_PACKET_RECEIVED, piece->data, piece->len,
	                              FALSE, 0, f->now);
}

/* segments that overtake each other on the way are put back in order */
static void
test_watch_tcp_reordered(Fixture *f, gconstpointer data)
{
	Path tcp = {AF_INET, "10.0.0.1", "10.0.0.53", 41002, IPPROTO_TCP};
	g_autoptr(GByteArray) framed =
	    start_tcp_answer(f, &tcp, 7, "late.example.test", "10.201.0.14", 700);
	/* three pieces: the length prefix and a bit, the middle, the rest */
	const gsize cuts[] = {0, 5, 20, framed->len};
	const int order[] = {2, 0, 2, 1}; /* the last first (twice), then the first, the middle */

	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		/* nothing is learnt before the gap is filled */
		g_assert_cmpuint(vigil_dns_cache_size(f->cache), ==, 0);
		feed_piece(f, &tcp, framed, cuts[order[i]], cuts[order[i] + 1], 701);
	}
	assert_name(f, 1000, "10.201.0.14", "late.example.test");
}

static void
test_watch_tcp_gap_learns_nothing(Fixture *f, gconstpointer data)
{
	Path tcp = {AF_INET, "10.0.0.1", "10.0.0.53", 41001, IPPROTO_TCP};
	g_autoptr(GByteArray) framed =
	    start_tcp_answer(f, &tcp, 6, "gap.example.test", "10.201.0.13", 500);

	/* the segment after the SYN never shows: this one is 10 bytes ahead */
	feed_piece(f, &tcp, framed, 10, framed->len, 501);
	g_assert_cmpuint(vigil_dns_cache_size(f->cache), ==, 0);
}

static void
test_watch_garbage(Fixture *f, gconstpointer data)
{
	GRand *rand = g_rand_new_with_seed(7);
	g_autoptr(GByteArray) q = query_for(0x1234, "ok.example.test", 1);
	g_autoptr(GByteArray) a = answer_for(0x1234, "ok.example.test", "10.201.0.10");
	g_autoptr(GByteArray) qp = make_packet(&udp4, TRUE, q->data, q->len, 0, 0);
	g_autoptr(GByteArray) ap = make_packet(&udp4, FALSE, a->data, a->len, 0, 0);

	/* cut and bit-flipped copies of real packets: nothing crashes, reads stay in bounds */
	for (guint round = 0; round < 20000; round++) {
		GByteArray *src = round % 2 ? ap : qp;
		guint len = (guint)g_rand_int_range(rand, 0, (gint32)src->len + 1);
		g_autofree guint8 *copy = g_memdup2(src->data, len);

		if (len > 0)
			copy[g_rand_int_range(rand, 0, (gint32)len)] ^=
			    1 << g_rand_int_range(rand, 0, 8);
		vigil_dns_watch_handle_packet(
		    f->watch, round % 2 ? VIGIL_DNS_PACKET_RECEIVED : VIGIL_DNS_PACKET_SENT, copy,
		    len, TRUE, 1000, f->now);
	}
	g_rand_free(rand);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dns/query", test_query);
	g_test_add_func("/dns/a-and-aaaa", test_a_and_aaaa);
	g_test_add_func("/dns/cname-chain-any-order", test_cname_chain_any_order);
	g_test_add_func("/dns/records-for-other-names-ignored",
	                test_records_for_other_names_ignored);
	g_test_add_func("/dns/cname-loop-ends", test_cname_loop_ends);
	g_test_add_func("/dns/other-class-and-ttl-top-bit", test_other_class_and_ttl_top_bit);
	g_test_add_func("/dns/compression-pointer-loops", test_compression_pointer_loops);
	g_test_add_func("/dns/pointer-out-of-range", test_pointer_out_of_range);
	g_test_add_func("/dns/pointer-in-question", test_pointer_in_question);
	g_test_add_func("/dns/truncation-at-every-length", test_truncation_at_every_length);
	g_test_add_func("/dns/oversized-counts", test_oversized_counts);
	g_test_add_func("/dns/many-records-bounded", test_many_records_bounded);
	g_test_add_func("/dns/bad-names", test_bad_names);
	g_test_add_func("/dns/unsafe-names-in-answers-ignored",
	                test_unsafe_names_in_answers_ignored);
	g_test_add_func("/dns/bad-rdata", test_bad_rdata);
	g_test_add_func("/dns/mutations", test_mutations);
#define WATCH_TEST(path, func)                                                                     \
	g_test_add("/dns-watch/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
	WATCH_TEST("answer-to-query", test_watch_answer_to_query);
	WATCH_TEST("unsolicited-answer", test_watch_unsolicited_answer);
	WATCH_TEST("answer-must-match-every-detail", test_watch_answer_must_match_every_detail);
	WATCH_TEST("direction-and-ports", test_watch_direction_and_ports);
	WATCH_TEST("query-times-out", test_watch_query_times_out);
	WATCH_TEST("ipv6-and-loopback", test_watch_ipv6_and_loopback);
	WATCH_TEST("unknown-sender-names-nothing", test_watch_unknown_sender_names_nothing);
	WATCH_TEST("query-flood-is-the-flooders-loss", test_watch_query_flood_is_the_flooders_loss);
	WATCH_TEST("tcp", test_watch_tcp);
	WATCH_TEST("tcp-reordered", test_watch_tcp_reordered);
	WATCH_TEST("tcp-gap-learns-nothing", test_watch_tcp_gap_learns_nothing);
	WATCH_TEST("garbage", test_watch_garbage);
	return g_test_run();
}
