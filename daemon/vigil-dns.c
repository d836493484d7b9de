/* vigil-dns.c: pure, bounds-checked parser of DNS messages (question, A/AAAA, CNAME chains) */
#define G_LOG_DOMAIN "vigil-dns"
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "vigil-dns.h"

#define HEADER_LEN 12
/* a CNAME chain longer than this is a loop or an attack; resolvers give up well before */
#define MAX_CHAIN 16
/* pointers must point backwards, so a name ends; this bounds the work on top */
#define MAX_POINTERS 64
/* answer records kept for the chain: far more than any real answer, little memory */
#define MAX_RECORDS 128

G_DEFINE_QUARK(vigil - dns - error - quark, vigil_dns_error)

/* the bytes of the message and where the reader stands */
typedef struct {
	const guint8 *data;
	gsize len;
	gsize pos;
} Reader;

/* one record of the answer section that may belong to the question */
typedef struct {
	char owner[VIGIL_DNS_NAME_SIZE];
	guint16 type;
	guint32 ttl;
	int family;
	VigilAddress address;             /* A, AAAA */
	char target[VIGIL_DNS_NAME_SIZE]; /* CNAME */
} Record;

static gboolean
truncated(GError **error, const char *what, gsize pos)
{
	g_set_error(error, VIGIL_DNS_ERROR, VIGIL_DNS_ERROR_TRUNCATED,
	            "message ends inside %s at offset %" G_GSIZE_FORMAT, what, pos);
	return FALSE;
}

static gboolean
read_u16(Reader *r, guint16 *value, const char *what, GError **error)
{
	if (r->len - r->pos < 2)
		return truncated(error, what, r->pos);
	*value = (guint16)(r->data[r->pos] << 8 | r->data[r->pos + 1]);
	r->pos += 2;
	return TRUE;
}

static gboolean
read_u32(Reader *r, guint32 *value, const char *what, GError **error)
{
	guint16 high, low;

	if (!read_u16(r, &high, what, error) || !read_u16(r, &low, what, error))
		return FALSE;
	*value = (guint32)high << 16 | low;
	return TRUE;
}

/* letters, digits, '-' and '_': what a log line and a rule can carry unescaped */
static gboolean
label_is_safe(const guint8 *label, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(label[i]) && label[i] != '-' && label[i] != '_')
			return FALSE;
	}
	return TRUE;
}

/* appends @label in lowercase; FALSE when the name grows past 253 characters */
static gboolean
append_label(char *out, gsize *out_len, const guint8 *label, gsize len)
{
	gsize needed = *out_len + (*out_len > 0 ? 1 : 0) + len;

	if (needed > VIGIL_DNS_NAME_SIZE - 1)
		return FALSE;
	if (*out_len > 0)
		out[(*out_len)++] = '.';
	for (gsize i = 0; i < len; i++)
		out[(*out_len)++] = g_ascii_tolower((char)label[i]);
	out[*out_len] = '\0';
	return TRUE;
}

/*
 * Reads the (possibly compressed) name at r->pos into @out and leaves r->pos after it.
 * Each pointer must point before the start of the labels that led to it: the offsets
 * strictly decrease, so every name ends, loops included. @safe says whether all labels
 * are made of safe characters; a name that is not safe is read (to skip it) but not used.
 */
static gboolean
read_name(Reader *r, char *out, gboolean *safe, GError **error)
{
	gsize pos = r->pos;
	gsize chunk_start = r->pos; /* where the labels being read began */
	gsize resume = 0;           /* where the record goes on after the first pointer */
	gsize out_len = 0;
	guint pointers = 0;

	out[0] = '\0';
	*safe = TRUE;
	for (;;) {
		guint8 b;

		if (pos >= r->len)
			return truncated(error, "a name", pos);
		b = r->data[pos];
		if ((b & 0xc0) == 0xc0) {
			gsize target;

			if (r->len - pos < 2)
				return truncated(error, "a compression pointer", pos);
			target = (gsize)(b & 0x3f) << 8 | r->data[pos + 1];
			if (target >= chunk_start || ++pointers > MAX_POINTERS) {
				g_set_error(error, VIGIL_DNS_ERROR, VIGIL_DNS_ERROR_BAD_POINTER,
				            "compression pointer at offset %" G_GSIZE_FORMAT
				            " to %" G_GSIZE_FORMAT " does not point back",
				            pos, target);
				return FALSE;
			}
			if (resume == 0)
				resume = pos + 2;
			pos = chunk_start = target;
			continue;
		}
		if ((b & 0xc0) != 0) {
			g_set_error(error, VIGIL_DNS_ERROR, VIGIL_DNS_ERROR_BAD_NAME,
			            "reserved label type 0x%02x at offset %" G_GSIZE_FORMAT, b,
			            pos);
			return FALSE;
		}
		if (b == 0) {
			pos++;
			break;
		}
		if (r->len - pos - 1 < b)
			return truncated(error, "a label", pos);
		if (!append_label(out, &out_len, r->data + pos + 1, b)) {
			g_set_error(error, VIGIL_DNS_ERROR, VIGIL_DNS_ERROR_BAD_NAME,
			            "name longer than 253 characters at offset %" G_GSIZE_FORMAT,
			            r->pos);
			return FALSE;
		}
		if (!label_is_safe(r->data + pos + 1, b))
			*safe = FALSE;
		pos += 1 + (gsize)b;
	}
	r->pos = resume != 0 ? resume : pos;
	return TRUE;
}

static gboolean
parse_header(Reader *r, VigilDnsMessage *message, guint16 counts[4], GError **error)
{
	guint16 flags;

	if (r->len < HEADER_LEN)
		return truncated(error, "the header", r->len);
	read_u16(r, &message->id, "the header", NULL);
	read_u16(r, &flags, "the header", NULL);
	for (int i = 0; i < 4; i++)
		read_u16(r, &counts[i], "the header", NULL);
	message->response = (flags & 0x8000) != 0;
	message->opcode = (flags >> 11) & 0xf;
	message->truncated = (flags & 0x0200) != 0;
	message->rcode = flags & 0xf;
	if (message->opcode != 0 || counts[0] != 1) {
		g_set_error(error, VIGIL_DNS_ERROR, VIGIL_DNS_ERROR_UNSUPPORTED,
		            "opcode %u with %u questions: not a standard query", message->opcode,
		            counts[0]);
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_question(Reader *r, VigilDnsMessage *message, GError **error)
{
	gboolean safe;

	if (!read_name(r, message->qname, &safe, error))
		return FALSE;
	if (!safe) {
		g_set_error_literal(error, VIGIL_DNS_ERROR, VIGIL_DNS_ERROR_BAD_NAME,
		                    "the question's name has characters a host name cannot have");
		return FALSE;
	}
	return read_u16(r, &message->qtype, "the question", error) &&
	       read_u16(r, &message->qclass, "the question", error);
}

static gboolean
bad_rdata(GError **error, guint16 type, guint16 rdlength)
{
	g_set_error(error, VIGIL_DNS_ERROR, VIGIL_DNS_ERROR_MALFORMED,
	            "record of type %u with %u bytes of data", type, rdlength);
	return FALSE;
}

/* reads the data of an IN A/AAAA/CNAME record into @rec; FALSE on malformed data */
static gboolean
parse_rdata(Reader *r, Record *rec, guint16 rdlength, GError **error)
{
	gboolean safe;
	Reader sub;

	switch (rec->type) {
	case VIGIL_DNS_TYPE_A:
	case VIGIL_DNS_TYPE_AAAA: {
		gsize size = rec->type == VIGIL_DNS_TYPE_A ? 4 : 16;

		if (rdlength != size)
			return bad_rdata(error, rec->type, rdlength);
		rec->family = rec->type == VIGIL_DNS_TYPE_A ? AF_INET : AF_INET6;
		memcpy(rec->address.bytes, r->data + r->pos, size);
		return TRUE;
	}
	case VIGIL_DNS_TYPE_CNAME:
		/* the name may point back into the message but must end where the data ends */
		sub = (Reader){r->data, r->pos + rdlength, r->pos};
		if (!read_name(&sub, rec->target, &safe, error))
			return FALSE;
		if (sub.pos != r->pos + rdlength)
			return bad_rdata(error, rec->type, rdlength);
		if (!safe)
			rec->target[0] = '\0';
		return TRUE;
	default:
		return TRUE;
	}
}

/*
 * Reads one resource record. With @records (the answer section), an IN A, AAAA or CNAME
 * record with a safe owner name has its data checked and is kept, up to MAX_RECORDS.
 */
static gboolean
parse_record(Reader *r, GArray *records, GError **error)
{
	Record rec = {0};
	guint16 rclass, rdlength;
	gboolean safe;
	gboolean wanted;

	if (!read_name(r, rec.owner, &safe, error) || !read_u16(r, &rec.type, "a record", error) ||
	    !read_u16(r, &rclass, "a record", error) || !read_u32(r, &rec.ttl, "a record", error) ||
	    !read_u16(r, &rdlength, "a record", error))
		return FALSE;
	if (r->len - r->pos < rdlength)
		return truncated(error, "record data", r->pos);
	wanted = records != NULL && safe && rclass == VIGIL_DNS_CLASS_IN &&
	         (rec.type == VIGIL_DNS_TYPE_A || rec.type == VIGIL_DNS_TYPE_AAAA ||
	          rec.type == VIGIL_DNS_TYPE_CNAME);
	if (wanted) {
		if (!parse_rdata(r, &rec, rdlength, error))
			return FALSE;
		/* RFC 2181: a TTL with the top bit set means zero */
		if (rec.ttl > G_MAXINT32)
			rec.ttl = 0;
		if (records->len < MAX_RECORDS)
			g_array_append_val(records, rec);
	}
	r->pos += rdlength;
	return TRUE;
}

/* adds the addresses @name has among @records, with @ttl as the chain's TTL so far */
static void
collect_addresses(GArray *records, const char *name, guint32 ttl, GArray *answers)
{
	for (guint i = 0; i < records->len; i++) {
		const Record *rec = &g_array_index(records, Record, i);
		VigilDnsAnswer answer = {0};

		if (rec->type == VIGIL_DNS_TYPE_CNAME || strcmp(rec->owner, name) != 0)
			continue;
		answer.family = rec->family;
		answer.address = rec->address;
		answer.ttl = MIN(ttl, rec->ttl);
		g_array_append_val(answers, answer);
	}
}

static const Record *
find_cname(GArray *records, const char *name)
{
	for (guint i = 0; i < records->len; i++) {
		const Record *rec = &g_array_index(records, Record, i);

		if (rec->type == VIGIL_DNS_TYPE_CNAME && strcmp(rec->owner, name) == 0)
			return rec;
	}
	return NULL;
}

/* follows qname through its CNAMEs, in whatever order the records came */
static void
resolve_chain(GArray *records, const char *qname, GArray *answers)
{
	const char *name = qname;
	guint32 ttl = G_MAXUINT32;

	for (guint step = 0; step < MAX_CHAIN && name[0] != '\0'; step++) {
		const Record *cname;

		collect_addresses(records, name, ttl, answers);
		cname = find_cname(records, name);
		if (cname == NULL)
			break;
		ttl = MIN(ttl, cname->ttl);
		name = cname->target;
	}
}

static gboolean
parse_message(Reader *r, VigilDnsMessage *message, GError **error)
{
	g_autoptr(GArray) records = g_array_new(FALSE, TRUE, sizeof(Record));
	guint16 counts[4];

	if (!parse_header(r, message, counts, error) || !parse_question(r, message, error))
		return FALSE;
	/* a count larger than the message can hold fails at the first missing record */
	for (guint i = 0; i < counts[1]; i++) {
		if (!parse_record(r, records, error))
			return FALSE;
	}
	/* the other sections are checked, never used: a resolver's extra records are not
	 * what the program asked for */
	for (guint i = 0; i < (guint)counts[2] + counts[3]; i++) {
		if (!parse_record(r, NULL, error))
			return FALSE;
	}
	resolve_chain(records, message->qname, message->answers);
	return TRUE;
}

gboolean
vigil_dns_parse(const guint8 *data, gsize len, VigilDnsMessage *message, GError **error)
{
	Reader r = {data, len, 0};

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(message != NULL, FALSE);

	vigil_dns_message_clear(message);
	message->answers = g_array_new(FALSE, TRUE, sizeof(VigilDnsAnswer));
	if (!parse_message(&r, message, error)) {
		vigil_dns_message_clear(message);
		return FALSE;
	}
	return TRUE;
}

void
vigil_dns_message_clear(VigilDnsMessage *message)
{
	g_clear_pointer(&message->answers, g_array_unref);
	memset(message, 0, sizeof(*message));
}
