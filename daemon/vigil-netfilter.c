/* vigil-netfilter.c: placeholder until written */
#include "config.h"
