/* The ceiling for `thepred bench queue`: a bare hiredis loop that cycles jobs through one
 * stream with XADD, XREADGROUP and XACK+XDEL, in pipelined batches of 100, with no job
 * model at all. ops/bench-queue builds and runs it beside thepred so both figures come from
 * one run on the same machine. Usage: bench-ceiling PORT JOBS */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(redisContext *c, redisReply *r) {
    if (!r) { fprintf(stderr, "redis: %s\n", c->errstr); exit(1); }
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) { fprintf(stderr, "redis: %s\n", r->str); exit(1); }
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 6392;
    long jobs = argc > 2 ? atol(argv[2]) : 200000;
    const int batch = 100;
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) { fprintf(stderr, "cannot connect\n"); return 1; }
    const char *stream = "thepred-ceiling:{bench}:stream";
    redisReply *r = redisCommand(c, "DEL %s", stream); check(c, r); freeReplyObject(r);
    r = redisCommand(c, "XGROUP CREATE %s g $ MKSTREAM", stream); check(c, r); freeReplyObject(r);
    double start = now();
    long done = 0;
    while (done < jobs) {
        for (int i = 0; i < batch; i++)
            redisAppendCommand(c, "XADD %s * id %ld kind noop payload {}", stream, done + i);
        for (int i = 0; i < batch; i++) { redisGetReply(c, (void **)&r); check(c, r); freeReplyObject(r); }
        r = redisCommand(c, "XREADGROUP GROUP g c COUNT %d STREAMS %s >", batch, stream); check(c, r);
        redisReply *entries = r->element[0]->element[1];
        size_t n = entries->elements;
        const char *ack[3 + 100], *del[2 + 100];
        size_t acklen[3 + 100], dellen[2 + 100];
        ack[0] = "XACK"; ack[1] = stream; ack[2] = "g";
        del[0] = "XDEL"; del[1] = stream;
        for (size_t i = 0; i < n; i++) ack[3 + i] = del[2 + i] = entries->element[i]->element[0]->str;
        for (size_t k = 0; k < 3 + n; k++) acklen[k] = strlen(ack[k]);
        for (size_t k = 0; k < 2 + n; k++) dellen[k] = strlen(del[k]);
        redisAppendCommandArgv(c, 3 + n, ack, acklen);
        redisAppendCommandArgv(c, 2 + n, del, dellen);
        redisReply *a;
        redisGetReply(c, (void **)&a); check(c, a); freeReplyObject(a);
        redisGetReply(c, (void **)&a); check(c, a); freeReplyObject(a);
        done += entries->elements;
        freeReplyObject(r);
    }
    double secs = now() - start;
    printf("ceiling:     %9.0f jobs/s  (bare C hiredis: XADD + XREADGROUP + XACK/XDEL in batches of %d, %ld jobs in %.2f s)\n",
           jobs / secs, batch, jobs, secs);
    r = redisCommand(c, "DEL %s", stream); freeReplyObject(r);
    redisFree(c);
    return 0;
}
