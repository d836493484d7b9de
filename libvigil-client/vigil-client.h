/* vigil-client.h: libvigil-client, what vigilctl and vigil-tray share to talk to vigild */
#pragma once

#include "vigil-client-agent.h"
#include "vigil-client-csv.h"
#include "vigil-client-error.h"
#include "vigil-client-prefs.h"
#include "vigil-client-reply.h"
#include "vigil-client-request.h"
#include "vigil-dbus.h"
