/* vigil-decision-log.c: placeholder until written */
#include "config.h"
