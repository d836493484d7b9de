/* vigil-pcapng.c: pcapng blocks in memory; the capture writes them to its files */
#include "config.h"

#include <string.h>

#include "vigil-pcapng.h"

/* option codes */
#define OPT_ENDOFOPT     0
#define OPT_COMMENT      1
#define SHB_USERAPPL     4
#define IF_TSRESOL       9
#define TSRESOL_MICROSEC 6

static void
put_u16(GByteArray *out, guint16 value)
{
	g_byte_array_append(out, (const guint8 *)&value, sizeof(value));
}

static void
put_u32(GByteArray *out, guint32 value)
{
	g_byte_array_append(out, (const guint8 *)&value, sizeof(value));
}

static void
put_padding(GByteArray *out, gsize len)
{
	static const guint8 zeros[4] = {0};

	g_byte_array_append(out, zeros, (guint)((4 - len % 4) % 4));
}

/* one option: code, length, value padded to 32 bits */
static void
put_option(GByteArray *out, guint16 code, const void *value, gsize len)
{
	put_u16(out, code);
	put_u16(out, (guint16)len);
	g_byte_array_append(out, value, (guint)len);
	put_padding(out, len);
}

/* a block's total length goes at its start and its end: set the start once it is known */
static void
finish_block(GByteArray *out, gsize start)
{
	guint32 total = (guint32)(out->len - start + sizeof(guint32));

	memcpy(out->data + start + sizeof(guint32), &total, sizeof(total));
	put_u32(out, total);
}

/* @comment cut to at most VIGIL_PCAPNG_MAX_COMMENT bytes, never inside a character */
static gsize
comment_length(const char *comment)
{
	gsize len = strlen(comment);
	const char *end;

	if (len <= VIGIL_PCAPNG_MAX_COMMENT)
		return len;
	end = g_utf8_find_prev_char(comment, comment + VIGIL_PCAPNG_MAX_COMMENT + 1);
	return end != NULL ? (gsize)(end - comment) : 0;
}

void
vigil_pcapng_append_header(GByteArray *out, const char *comment, guint32 snaplen)
{
	static const char userappl[] = "vigild";
	const guint8 tsresol = TSRESOL_MICROSEC;
	gsize start = out->len;

	/* Section Header Block: version 1.0, section length unknown (-1) */
	put_u32(out, VIGIL_PCAPNG_SHB);
	put_u32(out, 0);
	put_u32(out, VIGIL_PCAPNG_BYTE_ORDER_MAGIC);
	put_u16(out, 1);
	put_u16(out, 0);
	put_u32(out, G_MAXUINT32);
	put_u32(out, G_MAXUINT32);
	/* a comment that is not UTF-8 (a program's path is a user's bytes) is written with its
	 * bad bytes replaced, never left out: the rule, uid and flow stay in it */
	if (comment != NULL) {
		g_autofree char *valid = g_utf8_make_valid(comment, -1);
		put_option(out, OPT_COMMENT, valid, comment_length(valid));
	}
	put_option(out, SHB_USERAPPL, userappl, strlen(userappl));
	put_option(out, OPT_ENDOFOPT, NULL, 0);
	finish_block(out, start);

	/* Interface Description Block: raw IP, with µs timestamps said explicitly */
	start = out->len;
	put_u32(out, VIGIL_PCAPNG_IDB);
	put_u32(out, 0);
	put_u16(out, VIGIL_PCAPNG_LINKTYPE_RAW);
	put_u16(out, 0);
	put_u32(out, snaplen);
	put_option(out, IF_TSRESOL, &tsresol, 1);
	put_option(out, OPT_ENDOFOPT, NULL, 0);
	finish_block(out, start);
}

gsize
vigil_pcapng_packet_size(gsize captured)
{
	/* type, length, interface, 2 x timestamp, captured, original, data, length */
	return 7 * sizeof(guint32) + ((captured + 3) & ~(gsize)3) + sizeof(guint32);
}

gsize
vigil_pcapng_append_packet(GByteArray *out, gint64 time_us, const guint8 *data, gsize captured,
                           gsize original_len)
{
	guint64 stamp = time_us > 0 ? (guint64)time_us : 0;
	gsize start = out->len;

	g_return_val_if_fail(captured <= G_MAXUINT32 - 64, 0);
	put_u32(out, VIGIL_PCAPNG_EPB);
	put_u32(out, 0);
	put_u32(out, 0); /* interface 0 */
	put_u32(out, (guint32)(stamp >> 32));
	put_u32(out, (guint32)stamp);
	put_u32(out, (guint32)captured);
	put_u32(out, (guint32)MIN(MAX(original_len, captured), G_MAXUINT32));
	g_byte_array_append(out, data, (guint)captured);
	put_padding(out, captured);
	finish_block(out, start);
	return out->len - start;
}

static guint32
get_u32(const guint8 *p)
{
	guint32 value;

	memcpy(&value, p, sizeof(value));
	return value;
}

static guint16
get_u16(const guint8 *p)
{
	guint16 value;

	memcpy(&value, p, sizeof(value));
	return value;
}

char *
vigil_pcapng_read_comment(const guint8 *data, gsize len)
{
	gsize block_len, pos = 24; /* the options start after the fixed fields */

	if (len < 28 || get_u32(data) != VIGIL_PCAPNG_SHB ||
	    get_u32(data + 8) != VIGIL_PCAPNG_BYTE_ORDER_MAGIC)
		return NULL;
	block_len = get_u32(data + 4);
	if (block_len < 28 || block_len > len)
		return NULL;
	/* the options end 4 bytes before the block's end (its length again) */
	while (pos + 4 <= block_len - 4) {
		guint16 code = get_u16(data + pos), opt_len = get_u16(data + pos + 2);

		if (code == OPT_ENDOFOPT || pos + 4 + (gsize)opt_len > block_len - 4)
			return NULL;
		if (code == OPT_COMMENT) {
			const char *text = (const char *)data + pos + 4;

			if (!g_utf8_validate(text, opt_len, NULL))
				return NULL;
			return g_strndup(text, opt_len);
		}
		pos += 4 + (((gsize)opt_len + 3) & ~(gsize)3);
	}
	return NULL;
}
