/*
 * webhook1c-receiver: a one-shot webhook receiver on 127.0.0.1 for the
 * package check. It prints "listening <port>", accepts one HTTP/1.1 request,
 * prints its request line, headers and body, answers 200 with
 * {"success":true} and exits 0 (1 on any error, 3 after --timeout seconds
 * without a complete request).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_REQUEST (1024 * 1024)

static int fail(const char *what)
{
    fprintf(stderr, "webhook1c-receiver: %s: %s\n", what, strerror(errno));
    return 1;
}

/* Content-Length of a header block, or 0 when absent. */
static size_t content_length(const char *head)
{
    const char *p = head;
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            return (size_t)strtoul(p + 15, NULL, 10);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int timeout = 30;
    if (argc == 3 && strcmp(argv[1], "--timeout") == 0)
        timeout = atoi(argv[2]);

    int server = socket(AF_INET, SOCK_STREAM, 0);
    if (server < 0)
        return fail("socket");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0)
        return fail("bind");
    if (listen(server, 4) != 0)
        return fail("listen");
    socklen_t len = sizeof addr;
    if (getsockname(server, (struct sockaddr *)&addr, &len) != 0)
        return fail("getsockname");
    printf("listening %u\n", (unsigned)ntohs(addr.sin_port));
    fflush(stdout);

    struct timeval tv = {timeout, 0};
    setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int client = accept(server, NULL, NULL);
    if (client < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 3 : fail("accept");
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    char *buf = malloc(MAX_REQUEST + 1);
    if (buf == NULL)
        return fail("malloc");
    size_t used = 0, need = 0;
    char *body = NULL;
    while (used < MAX_REQUEST) {
        ssize_t n = recv(client, buf + used, MAX_REQUEST - used, 0);
        if (n <= 0)
            break;
        used += (size_t)n;
        buf[used] = '\0';
        if (body == NULL && (body = strstr(buf, "\r\n\r\n")) != NULL) {
            body += 4;
            need = (size_t)(body - buf) + content_length(buf);
        }
        if (body != NULL && used >= need)
            break;
    }
    if (body == NULL || used < need) {
        free(buf);
        close(client);
        close(server);
        fprintf(stderr, "webhook1c-receiver: incomplete request\n");
        return 3;
    }
    fwrite(buf, 1, used, stdout);
    printf("\n");
    fflush(stdout);

    static const char reply[] = "HTTP/1.1 200 OK\r\n"
                                "Content-Type: application/json; charset=utf-8\r\n"
                                "Content-Length: 16\r\n"
                                "Connection: close\r\n\r\n"
                                "{\"success\":true}";
    if (send(client, reply, sizeof reply - 1, 0) < 0)
        return fail("send");
    free(buf);
    close(client);
    close(server);
    return 0;
}
