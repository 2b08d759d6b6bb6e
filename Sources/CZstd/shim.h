#ifndef MEDALLION_CZSTD_SHIM_H
#define MEDALLION_CZSTD_SHIM_H
#include <zstd.h>
#endif
