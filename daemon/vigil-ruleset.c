/* vigil-ruleset.c: placeholder until written */
#include "config.h"
