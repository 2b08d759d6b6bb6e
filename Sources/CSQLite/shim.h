#ifndef MEDALLION_CSQLITE_SHIM_H
#define MEDALLION_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
