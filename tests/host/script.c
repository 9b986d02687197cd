/*
 * script.c: commands come from a script (one per line, read lazily so the
 * host can be driven interactively through stdin) and then from argv, where
 * a lone ";" separates commands and each element is one token.
 */
#include "host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct command_source {
    FILE *script;           /* NULL when there is none or it is finished */
    bool script_is_stdin;
    bool first_line;
    int argc;
    char **argv;
    int next_arg;
};

command_source *command_source_open(const char *script_path, int argc, char **argv,
                                    char **error)
{
    *error = NULL;
    command_source *src = xcalloc(1, sizeof *src);
    src->argc = argc;
    src->argv = argv;
    src->first_line = true;
    if (script_path) {
        if (strcmp(script_path, "-") == 0) {
            src->script = stdin;
            src->script_is_stdin = true;
        } else {
            src->script = host_fopen(script_path, "rb");
            if (!src->script) {
                strbuf sb = {0};
                sb_printf(&sb, "cannot open script %s: %s", script_path, strerror(errno));
                *error = sb.data;
                free(src);
                return NULL;
            }
        }
    }
    return src;
}

static void close_script(command_source *src)
{
    if (src->script && !src->script_is_stdin)
        fclose(src->script);
    src->script = NULL;
}

void command_source_close(command_source *src)
{
    if (!src)
        return;
    close_script(src);
    free(src);
}

/* Reads one line of any length (without its '\n'), or returns false at the
 * end of the file. */
static bool read_line(FILE *f, strbuf *line)
{
    line->len = 0;
    sb_reserve(line, 256);
    line->data[0] = '\0';
    bool any = false;
    for (;;) {
        sb_reserve(line, 4096);
        if (!fgets(line->data + line->len, (int)(line->cap - line->len), f))
            return any;
        any = true;
        line->len += strlen(line->data + line->len);
        if (line->len > 0 && line->data[line->len - 1] == '\n') {
            line->data[--line->len] = '\0';
            return true;
        }
    }
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void add_token(command *cmd, const char *s, size_t len)
{
    cmd->tokens = xrealloc(cmd->tokens, (cmd->count + 1) * sizeof *cmd->tokens);
    cmd->tokens[cmd->count].text = xstrndup(s, len);
    cmd->tokens[cmd->count].len = len;
    cmd->count++;
}

/* Splits a script line on whitespace; a token starting with '"' runs to the
 * matching unescaped '"' and keeps its quotes (value.c decodes it). */
static bool tokenize(const char *line, size_t len, command *cmd, char **error)
{
    size_t i = 0;
    for (;;) {
        while (i < len && is_space(line[i]))
            i++;
        if (i >= len)
            return true;
        size_t start = i;
        if (line[i] == '"') {
            i++;
            while (i < len && line[i] != '"')
                i += (line[i] == '\\' && i + 1 < len) ? 2 : 1;
            if (i >= len) {
                *error = xstrndup("syntax error: unterminated string", 33);
                return false;
            }
            i++;    /* the closing quote */
            if (i < len && !is_space(line[i])) {
                *error = xstrndup("syntax error: text after a closing quote", 40);
                return false;
            }
        } else {
            while (i < len && !is_space(line[i]))
                i++;
        }
        add_token(cmd, line + start, i - start);
    }
}

/* Next command from the script; false when the script is exhausted. */
static bool next_script_command(command_source *src, command *cmd, char **error)
{
    strbuf line = {0};
    bool got = false;
    while (src->script && !got) {
        if (!read_line(src->script, &line)) {
            close_script(src);
            break;
        }
        const char *s = line.data;
        size_t len = line.len;
        if (src->first_line && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;     /* UTF-8 BOM written by some editors */
            len -= 3;
        }
        src->first_line = false;
        while (len > 0 && is_space(s[len - 1]))
            len--;      /* also drops the '\r' of CRLF files */
        size_t lead = 0;
        while (lead < len && is_space(s[lead]))
            lead++;
        if (lead == len || s[lead] == '#')
            continue;   /* blank line or comment */
        got = true;
        if (!tokenize(s + lead, len - lead, cmd, error)) {
            /* Hand back the whole line as one token so that the caller
             * can still echo what was typed before reporting the error. */
            command_free(cmd);
            add_token(cmd, s + lead, len - lead);
        }
    }
    sb_free(&line);
    return got;
}

bool command_source_next(command_source *src, command *cmd, char **error)
{
    cmd->tokens = NULL;
    cmd->count = 0;
    *error = NULL;
    if (next_script_command(src, cmd, error))
        return true;
    while (src->next_arg < src->argc) {
        while (src->next_arg < src->argc && strcmp(src->argv[src->next_arg], ";") != 0) {
            const char *a = src->argv[src->next_arg++];
            add_token(cmd, a, strlen(a));
        }
        if (src->next_arg < src->argc)
            src->next_arg++;    /* the ";" */
        if (cmd->count > 0)
            return true;        /* empty commands (";;") are skipped */
    }
    return false;
}

void command_free(command *cmd)
{
    for (size_t i = 0; i < cmd->count; i++)
        free(cmd->tokens[i].text);
    free(cmd->tokens);
    cmd->tokens = NULL;
    cmd->count = 0;
}
