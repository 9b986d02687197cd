/*
 * host.h: declarations shared by the test host's own modules, on top of
 * what it shares with the load host (../common/common.h; the add-in ABI is
 * addin_host.h).  Include this header first in every .c file.
 */
#ifndef WEBHOOK1C_HOST_H
#define WEBHOOK1C_HOST_H

#include "../common/common.h"

/* ---- output.c: stdout lines, counters, exceptions, the connection's
 * messages (on_add_error...) and the leak listing ------------------------ */

/* Prints one line (a '\n' is added) atomically and flushes. */
void out_line(const char *fmt, ...) HOST_PRINTF(1, 2);
void out_line_sb(const char *prefix, strbuf *sb);
/* abi_error (common.h) prints `ABI ERROR: ...` on stdout and stderr. */
/* A script mistake (unknown command, bad value syntax...): `! ...`, counted,
 * makes the exit status 1. */
void command_error(const char *fmt, ...) HOST_PRINTF(1, 2);
long abi_error_count(void);
long command_error_count(void);

/* AddError with scode != 0 is 1C's way to raise an exception.  Prints the
 * `! ...` line for a call that returned `ok` and/or raised since `mark`
 * (connection_exceptions before the call); returns whether it raised. */
bool exc_report(connection *conn, unsigned long mark, bool ok);

/* Lists the blocks still live at exit (the add-in's or the host's leaks)
 * and releases them (which keeps LeakSanitizer quiet about them). */
void memory_report_and_release_live(void);

void output_init(void);
void output_done(void);

/* ---- value.c: building and printing tVariant values --------------------- */

/* Builds *v from a value token (script syntax).  Buffers come from the
 * tracking memory manager.  On a syntax error returns false with a
 * malloc'ed message in *error and leaves *v EMPTY. */
bool value_from_token(const char *tok, size_t len, tVariant *v, char **error);
/* Appends `string "..."`, `number 30`... (without the leading "= "). */
void value_format(strbuf *sb, const tVariant *v);
/* Frees the PWSTR/PSTR/BLOB buffer the variant holds now through the
 * tracking memory manager and makes it EMPTY. */
void value_free(tVariant *v);

/* A compact summary of a value, used to notice in/out parameter changes
 * without keeping a copy of (possibly huge) buffers. */
typedef struct value_fingerprint {
    uint16_t vt;
    uint64_t bits;   /* scalar payload, or the content hash */
    uint64_t len;
} value_fingerprint;
value_fingerprint value_fingerprint_of(const tVariant *v);
bool value_fingerprint_equal(const value_fingerprint *a, const value_fingerprint *b);

/* Decodes a name token (quoted string or bare UTF-8) into host memory. */
WCHAR_T *name_from_token(const char *tok, size_t len, char **error);

/* ---- script.c: where commands come from ---------------------------------- */

typedef struct token {
    char *text;     /* as typed (quotes and escapes kept), NUL-terminated */
    size_t len;
} token;

typedef struct command {
    token *tokens;
    size_t count;
} command;

typedef struct command_source command_source;
/* script_path may be NULL, "-" means stdin.  argv commands follow the script
 * ones; a lone ";" separates them. */
command_source *command_source_open(const char *script_path, int argc, char **argv,
                                    char **error);
/* Returns false at the end.  On a syntax error returns true with *error set
 * (malloc'ed) and the raw line as the only token; the caller reports it. */
bool command_source_next(command_source *src, command *cmd, char **error);
void command_free(command *cmd);
void command_source_close(command_source *src);

#endif /* WEBHOOK1C_HOST_H */
