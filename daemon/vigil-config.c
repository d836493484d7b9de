/* vigil-config.c: placeholder until written */
#include "config.h"
