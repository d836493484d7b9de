/* vigil-sha-cache.c: placeholder until written */
#include "config.h"
