/* vigil-process.c: placeholder until written */
#include "config.h"
