/* vigil-attributor.c: placeholder until written */
#include "config.h"
