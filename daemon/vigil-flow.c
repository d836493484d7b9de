/* vigil-flow.c: placeholder until written */
#include "config.h"
