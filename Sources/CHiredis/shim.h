#ifndef THEPRED_CHIREDIS_SHIM_H
#define THEPRED_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <sys/time.h>
#endif
