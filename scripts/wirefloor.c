/* wirefloor: the floor under a pnnlab host's ping round trip, for make bench (issue 11).
 *
 * A minimal C host and a minimal C device of the pnnlab wire protocol (docs/protocol.md:
 * COBS frames, CRC-16/CCITT-FALSE, hello and ping only), plus a raw pty ping-pong, so the
 * round trip of a host against an emulator can be split into the kernel's pty floor, the
 * emulator's service time and the host's own overhead:
 *
 *   wirefloor raw N              raw 24-byte ping-pong between two processes over a pty
 *   wirefloor host PORT N W      C host: hello, N stop-and-wait pings, N pipelined (window W)
 *   wirefloor device HELLOHEX    C device on a new pty: prints the slave path, answers hellos
 *                                with the given reply payload (hex) and echoes pings
 *
 * Each measuring mode prints one JSON line. Build: cc -O2 -o wirefloor scripts/wirefloor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double(const void *x, const void *y) {
    double d = *(const double *)x - *(const double *)y;
    return d < 0 ? -1 : d > 0;
}

static void make_raw(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        tcsetattr(fd, TCSANOW, &t);
    }
}

static uint16_t crc16(const uint8_t *p, size_t n) {
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)p[i] << 8;
        for (int b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* COBS-encodes n bytes (n < 254 here) into out, appends the 0x00 delimiter; returns the length. */
static size_t cobs_frame(const uint8_t *in, size_t n, uint8_t *out) {
    size_t o = 1, code_at = 0;
    uint8_t code = 1;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            out[o++] = in[i];
            code++;
        }
    }
    out[code_at] = code;
    out[o++] = 0;
    return o;
}

/* Decodes one COBS block (without delimiter); returns the length or -1. */
static long cobs_decode(const uint8_t *in, size_t n, uint8_t *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t code = in[i++];
        if (code == 0 || i + code - 1 > n) return -1;
        memcpy(out + o, in + i, code - 1);
        o += code - 1;
        i += code - 1;
        if (code != 0xFF && i < n) out[o++] = 0;
    }
    return (long)o;
}

static size_t encode_frame(uint8_t type, uint16_t seq, uint8_t flags, const uint8_t *payload, size_t len, uint8_t *out) {
    uint8_t raw[1024];
    raw[0] = 1;
    raw[1] = type;
    raw[2] = seq & 0xFF;
    raw[3] = seq >> 8;
    raw[4] = flags;
    memcpy(raw + 5, payload, len);
    uint16_t c = crc16(raw, 5 + len);
    raw[5 + len] = c & 0xFF;
    raw[6 + len] = c >> 8;
    return cobs_frame(raw, 7 + len, out);
}

/* Frames: bytes are accumulated in buf; each complete frame is decoded into raw. */
typedef struct {
    int fd;
    uint8_t buf[1 << 16];
    size_t have, scan;
} Reader;

/* Returns the decoded length (>= 7, CRC good) of the next frame, blocking for bytes. */
static long next_frame(Reader *r, uint8_t *raw) {
    for (;;) {
        uint8_t *z = memchr(r->buf + r->scan, 0, r->have - r->scan);
        if (z) {
            size_t len = (size_t)(z - r->buf);
            long n = cobs_decode(r->buf, len, raw);
            memmove(r->buf, z + 1, r->have - len - 1);
            r->have -= len + 1;
            r->scan = 0;
            if (n >= 7 && crc16(raw, n - 2) == (raw[n - 2] | raw[n - 1] << 8)) return n;
            continue;
        }
        r->scan = r->have;
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) return -1;
        ssize_t got = read(r->fd, r->buf + r->have, sizeof r->buf - r->have);
        if (got <= 0) {
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            return -1;
        }
        r->have += (size_t)got;
    }
}

static int raw_floor(int count) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    unlockpt(m);
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    make_raw(s);
    make_raw(m);
    pid_t echo = fork();
    if (echo == 0) {
        char b[64];
        close(s);
        fclose(stdout); /* the parent's reader waits for stdout's end, not for this child */
        for (;;) {
            ssize_t n = read(m, b, sizeof b);
            if (n <= 0) _exit(0);
            if (write(m, b, (size_t)n) != n) _exit(1);
        }
    }
    char b[64] = {1};
    double *t = malloc(sizeof(double) * count);
    for (int i = 0; i < count; i++) {
        double a = now_s();
        if (write(s, b, 24) != 24) return 1;
        int got = 0;
        while (got < 24) {
            ssize_t n = read(s, b, sizeof b);
            if (n <= 0) return 1;
            got += (int)n;
        }
        t[i] = now_s() - a;
    }
    qsort(t, count, sizeof(double), cmp_double);
    printf("{\"median_rtt_s\": %.9f, \"p10_rtt_s\": %.9f, \"p90_rtt_s\": %.9f}\n", t[count / 2], t[count / 10],
           t[9 * count / 10]);
    close(s);
    close(m);
    kill(echo, SIGTERM);
    waitpid(echo, NULL, 0);
    return 0;
}

static int host(const char *port, int count, int window) {
    int fd = open(port, O_RDWR | O_NOCTTY);
    if (fd < 0) {
        perror(port);
        return 1;
    }
    make_raw(fd);
    static Reader r;
    r.fd = fd;
    uint8_t out[2048], raw[1 << 16];
    uint16_t seq = 0;
    const uint8_t hello[] = {1, 9, 0, 'w', 'i', 'r', 'e', 'f', 'l', 'o', 'o', 'r'};
    size_t n = encode_frame(0x01, seq, 0, hello, sizeof hello, out);
    if (write(fd, out, n) != (ssize_t)n) return 1;
    long len;
    do {
        len = next_frame(&r, raw);
        if (len < 0) {
            fprintf(stderr, "no hello reply\n");
            return 1;
        }
    } while (!(raw[1] == 0x01 && (raw[4] & 0x02) && (raw[2] | raw[3] << 8) == seq));
    if (getenv("WIREFLOOR_PRINT_HELLO")) {
        for (long i = 5; i < len - 2; i++) fprintf(stderr, "%02x", raw[i]);
        fprintf(stderr, "\n");
    }
    uint8_t payload[16];
    memset(payload, 0xA5, sizeof payload);
    double *t = malloc(sizeof(double) * count);
    for (int i = -50; i < count; i++) {
        double a = now_s();
        seq++;
        n = encode_frame(0x02, seq, 0, payload, sizeof payload, out);
        if (write(fd, out, n) != (ssize_t)n) return 1;
        for (;;) {
            len = next_frame(&r, raw);
            if (len < 0) {
                fprintf(stderr, "ping timed out\n");
                return 1;
            }
            if (raw[1] == 0x02 && (raw[4] & 0x02) && (raw[2] | raw[3] << 8) == seq) break;
        }
        if (i >= 0) t[i] = now_s() - a;
    }
    qsort(t, count, sizeof(double), cmp_double);
    double rtt = t[count / 2];
    /* Pipelined: up to `window` pings in flight, all requests that fit written at once. */
    double a = now_s();
    int sent = 0, done = 0;
    uint16_t first = seq + 1;
    while (done < count) {
        size_t o = 0;
        while (sent < count && sent - done < window) {
            seq++;
            o += encode_frame(0x02, seq, 0, payload, sizeof payload, out + o);
            sent++;
        }
        if (o && write(fd, out, o) != (ssize_t)o) return 1;
        len = next_frame(&r, raw);
        if (len < 0) {
            fprintf(stderr, "pipelined ping timed out\n");
            return 1;
        }
        uint16_t s = raw[2] | raw[3] << 8;
        if (raw[1] == 0x02 && (raw[4] & 0x02) && (uint16_t)(s - first) < (uint16_t)sent) done++;
    }
    double rate = count / (now_s() - a);
    printf("{\"median_rtt_s\": %.9f, \"p10_rtt_s\": %.9f, \"p90_rtt_s\": %.9f, \"pipelined_rps\": %.1f}\n", rtt,
           t[count / 10], t[9 * count / 10], rate);
    close(fd);
    return 0;
}

static int device(const char *hellohex) {
    uint8_t hello[1024];
    size_t hn = strlen(hellohex) / 2;
    if (hn > sizeof hello) return 1;
    for (size_t i = 0; i < hn; i++) sscanf(hellohex + 2 * i, "%2hhx", &hello[i]);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    unlockpt(m);
    int keep = open(ptsname(m), O_RDWR | O_NOCTTY); /* so the master never sees a hang-up */
    make_raw(keep);
    make_raw(m);
    printf("%s\n", ptsname(m));
    fflush(stdout);
    static Reader r;
    r.fd = m;
    uint8_t raw[1 << 16], out[1 << 16];
    for (;;) {
        long len = next_frame(&r, raw);
        if (len < 0) {
            if (errno == 0 || errno == EAGAIN || errno == EINTR) continue;
            continue; /* idle: poll timed out */
        }
        uint8_t type = raw[1], flags = raw[4];
        uint16_t seq = raw[2] | raw[3] << 8;
        if (flags & 0x0E) continue; /* not a request */
        size_t n;
        if (type == 0x01)
            n = encode_frame(0x01, seq, 0x02, hello, hn, out);
        else if (type == 0x02)
            n = encode_frame(0x02, seq, 0x02, raw + 5, (size_t)len - 7, out);
        else
            continue;
        /* Answer everything already read in one write, like a board's UART buffer. */
        size_t o = n;
        while (memchr(r.buf, 0, r.have)) {
            len = next_frame(&r, raw);
            if (len < 0) break;
            type = raw[1];
            seq = raw[2] | raw[3] << 8;
            if (raw[4] & 0x0E) continue;
            if (type == 0x01)
                o += encode_frame(0x01, seq, 0x02, hello, hn, out + o);
            else if (type == 0x02)
                o += encode_frame(0x02, seq, 0x02, raw + 5, (size_t)len - 7, out + o);
        }
        if (write(m, out, o) != (ssize_t)o) return 1;
    }
}

int main(int argc, char **argv) {
    /* A parent may have left SIGINT ignored (inherited across exec): be stoppable by it, */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL); /* ...or blocked (the mask is inherited too) */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (argc >= 3 && !strcmp(argv[1], "raw")) return raw_floor(atoi(argv[2]));
    if (argc >= 5 && !strcmp(argv[1], "host")) return host(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc >= 3 && !strcmp(argv[1], "device")) return device(argv[2]);
    fprintf(stderr, "usage: wirefloor raw N | host PORT N WINDOW | device HELLOHEX\n");
    return 2;
}
