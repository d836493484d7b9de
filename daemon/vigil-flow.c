/* vigil-flow.c: hashing the fixed-size keys of flow tables */
#define G_LOG_DOMAIN "vigil-flow"
#include "config.h"

#include "vigil-flow.h"

guint
vigil_hash_bytes(const void *data, gsize len)
{
	const guint8 *bytes = data;
	guint32 hash = 2166136261u;

	for (gsize i = 0; i < len; i++)
		hash = (hash ^ bytes[i]) * 16777619u;
	return hash;
}
