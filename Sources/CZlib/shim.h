#ifndef MEDALLION_CZLIB_SHIM_H
#define MEDALLION_CZLIB_SHIM_H
#include <zlib.h>
#endif
