/* vigil-queue.c: placeholder until written */
#include "config.h"
