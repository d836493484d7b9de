/* vigil-sock-diag.c: placeholder until written */
#include "config.h"
