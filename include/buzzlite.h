/*
** buzzlite.h: public interface of the buzzlite SQLite extension.
**
** Load it at run time:      .load ./build/buzzlite
** or link it statically and call sqlite3_buzzlite_init(db, &zErr, NULL)
** (compile the ext/ sources with -DSQLITE_CORE for that).
*/
#ifndef BUZZLITE_H
#define BUZZLITE_H

#include <sqlite3.h>

#define BUZZLITE_VERSION "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Registers every buzzlite virtual table and function on db. */
int sqlite3_buzzlite_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi);

#ifdef __cplusplus
}
#endif
#endif
