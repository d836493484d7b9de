/* vigil-daemon.c: placeholder until written */
#include "config.h"
