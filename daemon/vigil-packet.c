/* vigil-packet.c: placeholder until written */
#include "config.h"
