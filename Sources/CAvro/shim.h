#ifndef MEDALLION_CAVRO_SHIM_H
#define MEDALLION_CAVRO_SHIM_H
// libavro exposes its value interface as C macros, which Swift cannot call;
// the codec's static inline wrappers live here (see Sources/Codec).
#include <avro.h>
#endif
