#ifndef THEPRED_CLIBPQ_SHIM_H
#define THEPRED_CLIBPQ_SHIM_H
#include <postgresql/libpq-fe.h>
#endif
