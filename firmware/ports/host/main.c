/*
 * main.c - the host port: the protocol engine (firmware/api) as a POSIX process, running the
 * harness's built-in int8 models, so that the harness can drive real C firmware without a board.
 *
 *   host-firmware --stdio [options]   commands on stdin, answers on stdout (fuzzing, scripts)
 *   host-firmware --pty [options]     opens a pseudo-terminal, prints "pty: /dev/pts/N" on stderr and
 *                                     serves on it until the host closes it or SIGTERM/SIGINT
 *
 * `caps` reports the command buffer (--cmd-size, default 80), the db buffer (the model's
 * MAX_DB_INPUT_SIZE) and the `db bin` chunk (--bin-chunk, default 512; 0 switches `db bin` off).
 *
 * Clocks. By default m-lap-us is a real monotonic microsecond clock and every inference runs the
 * model. With --sim-clock the clock is the virtual DUT's (harness/virtual/dut.py behind
 * harness/virtual/pty.py): it advances only by the UART time of the bytes on the wire, 10 bit times
 * per byte at --baud in both directions (a fraction of a microsecond carried over, as pty.py's
 * _advance_uart does, in the same double arithmetic and the same grouping: per read() of host bytes,
 * per line of output), and by --infer-us per inference. The model then runs once per new input, as
 * the virtual DUT does: its results do not change, and `infer 100000000` stays instant.
 */
#define _XOPEN_SOURCE 600 /* posix_openpt, grantpt, unlockpt, ptsname; POSIX.1-2001 otherwise */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ee_engine.h"
#include "ee_hooks.h"
#include "model.h"

#define MAX_CMD_SIZE 4096 /* --cmd-size bound: the SWW reference uses 1028 */
#define MAX_BIN_CHUNK 1048576L /* --bin-chunk bound: a pipe or a pty loses nothing, any size works */
#define LINE_CAP 8192     /* output is written a line at a time (see flush_line) */
#define READ_CHUNK 4096   /* as pty.py reads the host */

static struct {
    int out_fd;
    int gone;                 /* the host end is closed: stop serving */
    int sim;                  /* --sim-clock */
    long baud;
    uint64_t infer_us;
    uint64_t now_us;          /* the simulated clock */
    double owed_us;           /* UART time not yet on the clock (whole microseconds move it) */
    struct timespec start;    /* the real clock's zero: power-on */
    int trace_pins;
    char line[LINE_CAP];
    size_t line_len;
    const model_t *model;
    uint8_t tensor[MODEL_MAX_INPUT]; /* the input tensor starts zeroed, as the virtual DUT's */
    int tensor_new;           /* loaded since the last model run */
    double results[MODEL_MAX_CLASSES];
} host;

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

/* --- the simulated clock ------------------------------------------------------------------- */

/* pty.py: owed += count * 10 * 1e6 / baud; whole = int(owed); clock += whole; owed -= whole */
static void advance_uart(size_t count)
{
    uint64_t whole;

    if (!host.sim)
        return;
    host.owed_us += (double)(count * 10u) * 1e6 / (double)host.baud;
    whole = (uint64_t)host.owed_us;
    host.now_us += whole;
    host.owed_us -= (double)whole;
}

static uint64_t real_now_us(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)(now.tv_sec - host.start.tv_sec) * 1000000u + (uint64_t)now.tv_nsec / 1000u -
           (uint64_t)host.start.tv_nsec / 1000u;
}

/* --- output -------------------------------------------------------------------------------- */

static void write_all(const char *data, size_t len)
{
    while (len && !host.gone) {
        ssize_t n = write(host.out_fd, data, len);

        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            if (stop_requested)
                host.gone = 1;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd p;

            p.fd = host.out_fd;
            p.events = POLLOUT;
            p.revents = 0;
            poll(&p, 1, 100);
        } else {
            host.gone = 1; /* EIO: the host closed the pty; EPIPE: the reader of stdout is gone */
        }
    }
}

/* The virtual DUT's carrier puts each line on the clock as it is emitted; writing (and timing) a
 * whole line at once keeps the same grouping, so the sums of fractional microseconds match. */
static void flush_line(void)
{
    if (!host.line_len)
        return;
    write_all(host.line, host.line_len);
    advance_uart(host.line_len);
    host.line_len = 0;
}

void th_serial_write(const char *data, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        host.line[host.line_len++] = data[i];
        if (data[i] == '\n' || host.line_len == sizeof host.line)
            flush_line();
    }
}

/* --- the other hooks ----------------------------------------------------------------------- */

uint32_t th_timestamp_us(void)
{
    return (uint32_t)(host.sim ? host.now_us : real_now_us()); /* %lu of a 32-bit MCU: wraps */
}

void th_timestamp_pulse(void)
{
    /* No GPIO on a host: the edge is reported on stderr when asked (the virtual DUT hands it to its
     * energy monitor; the wire shows nothing). */
    if (host.trace_pins)
        fprintf(stderr, "pin: timestamp falling edge at %lu us\n",
                (unsigned long)(host.sim ? host.now_us : real_now_us()));
}

void th_load_tensor(const uint8_t *db, size_t loaded)
{
    size_t size = host.model->input_size;
    size_t unit = host.model->anomaly ? 4 : 1; /* the AD port counts float32 elements */

    if (loaded < size) { /* too few: the previous tensor stays, as in the reference ports */
        ee_put("Input db has ");
        ee_put_uint((uint32_t)(loaded / unit));
        ee_put(" elemented, expected "); /* sic */
        ee_put_uint((uint32_t)(size / unit));
        ee_put("\n");
        return;
    }
    memcpy(host.tensor, db, size); /* a longer load (ad01: up to 5120 bytes) uses its first window */
    host.tensor_new = 1;
}

void th_infer(void)
{
    if (host.sim) {
        host.now_us += host.infer_us;
        if (!host.tensor_new)
            return; /* same input, same results: the clock says how long it took */
    }
    model_run(host.model, host.tensor, host.results);
    host.tensor_new = 0;
}

int th_result(size_t index, double *value)
{
    if (index >= model_outputs(host.model))
        return 0;
    *value = host.results[index]; /* zeros before the first inference */
    return 1;
}

/* --- serving ------------------------------------------------------------------------------- */

/* Host bytes until EOF, the host closing the pty, a write failure or a signal. */
static int serve(int in_fd)
{
    static uint8_t chunk[READ_CHUNK];

    while (!stop_requested && !host.gone) {
        struct pollfd p;
        ssize_t n;

        p.fd = in_fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("host-firmware: poll");
            return 1;
        }
        if (!(p.revents & POLLIN)) {
            if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
                return 0; /* the host closed its end */
            continue;
        }
        n = read(in_fd, chunk, sizeof chunk);
        if (n > 0) {
            /* pty.py delivers what one read gave after putting all of it on the clock */
            advance_uart((size_t)n);
            ee_rx(chunk, (size_t)n);
            flush_line();
        } else if (n == 0 || errno == EIO) {
            return 0; /* EOF on stdin; EIO: the last holder of the pty's slave closed it */
        } else if (errno != EINTR && errno != EAGAIN) {
            perror("host-firmware: read");
            return 1;
        }
    }
    return 0;
}

static void make_raw(int fd)
{
    struct termios t;

    if (tcgetattr(fd, &t) != 0)
        return;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &t);
}

static void sleep_ms(long ms)
{
    struct timespec t;

    t.tv_sec = 0;
    t.tv_nsec = ms * 1000000L;
    nanosleep(&t, NULL);
}

static int run_pty(void)
{
    int master, slave;
    const char *name;
    char path[256];

    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || !(name = ptsname(master))) {
        perror("host-firmware: cannot open a pseudo-terminal");
        return 1;
    }
    strncpy(path, name, sizeof path - 1);
    path[sizeof path - 1] = '\0';
    /* Hold the slave open while booting: the line is set raw (no echo, no CR/LF translation) and the
     * boot banner is written, as a board boots before the host opens its port (pyserial flushes
     * what was waiting when it opens, so hosts do not see it; the clock counted it). */
    slave = open(path, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        perror("host-firmware: cannot open the pty's slave");
        return 1;
    }
    make_raw(slave);
    host.out_fd = master;
    ee_boot();
    flush_line();
    close(slave);
    fprintf(stderr, "pty: %s\n", path);
    fflush(stderr);
    /* Nobody holds the slave now, so the master reports a hang-up until the host opens it. */
    while (!stop_requested) {
        struct pollfd p;

        p.fd = master;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP))
            break;
        sleep_ms(2);
    }
    return serve(master);
}

static void usage(FILE *to)
{
    size_t i;

    fprintf(to,
            "usage: host-firmware (--stdio | --pty) [--model ID] [--name NAME] [--energy]\n"
            "                     [--sim-clock] [--baud B] [--infer-us U] [--cmd-size N] [--bin-chunk N]\n"
            "                     [--trace-pins]\n"
            "  --stdio        commands on stdin, answers on stdout\n"
            "  --pty          serve on a new pseudo-terminal (its path is printed on stderr)\n"
            "  --model ID     the built-in model to run (default kws01):");
    for (i = 0; i < model_count; i++)
        fprintf(to, " %s", models[i].id);
    fprintf(to,
            "\n  --name NAME    m-name-dut-[NAME] (default host)\n"
            "  --energy       energy mode: timestamps are pin pulses, not m-lap-us lines\n"
            "  --sim-clock    the virtual DUT's simulated clock (UART bytes and --infer-us)\n"
            "  --baud B       UART rate the simulated clock charges bytes at (default 115200)\n"
            "  --infer-us U   simulated microseconds per inference (default 2000)\n"
            "  --cmd-size N   the command buffer, 1..%d characters (default 80)\n"
            "  --bin-chunk N  `db bin` bytes between acknowledgements, 0..%ld (default 512; 0: off)\n"
            "  --trace-pins   report energy-mode timestamp pulses on stderr\n",
            MAX_CMD_SIZE, MAX_BIN_CHUNK);
}

static int number(const char *text, long low, long high, long *out)
{
    char *end;
    long value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < low || value > high)
        return 0;
    *out = value;
    return 1;
}

int main(int argc, char **argv)
{
    const char *model_id = "kws01", *name = "host";
    long baud = 115200, infer_us = 2000, cmd_size = 80, bin_chunk = 512;
    int mode = 0, energy = 0, i;
    struct sigaction action;
    ee_config_t cfg;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(arg, "--model") == 0 || strcmp(arg, "--name") == 0 || strcmp(arg, "--baud") == 0 ||
                    strcmp(arg, "--infer-us") == 0 || strcmp(arg, "--cmd-size") == 0 ||
                    strcmp(arg, "--bin-chunk") == 0;

        if (takes && !value) {
            fprintf(stderr, "host-firmware: %s needs a value\n", arg);
            return 2;
        }
        if (strcmp(arg, "--stdio") == 0 || strcmp(arg, "--pty") == 0) {
            mode = arg[2] == 's' ? 1 : 2;
        } else if (strcmp(arg, "--sim-clock") == 0) {
            host.sim = 1;
        } else if (strcmp(arg, "--energy") == 0) {
            energy = 1;
        } else if (strcmp(arg, "--trace-pins") == 0) {
            host.trace_pins = 1;
        } else if (strcmp(arg, "--model") == 0) {
            model_id = value;
        } else if (strcmp(arg, "--name") == 0) {
            name = value;
        } else if (strcmp(arg, "--baud") == 0 && number(value, 1, 100000000L, &baud)) {
        } else if (strcmp(arg, "--infer-us") == 0 && number(value, 0, 1000000000L, &infer_us)) {
        } else if (strcmp(arg, "--cmd-size") == 0 && number(value, 1, MAX_CMD_SIZE, &cmd_size)) {
        } else if (strcmp(arg, "--bin-chunk") == 0 && number(value, 0, MAX_BIN_CHUNK, &bin_chunk)) {
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "host-firmware: bad argument %s%s%s\n", arg, takes ? " " : "", takes ? value : "");
            usage(stderr);
            return 2;
        }
        i += takes;
    }
    host.model = model_find(model_id);
    if (!mode || !host.model) {
        if (!host.model)
            fprintf(stderr, "host-firmware: unknown model %s\n", model_id);
        usage(stderr);
        return 2;
    }
    host.baud = baud;
    host.tensor_new = 1; /* the zeroed tensor has not been run yet: `infer` before any load runs it */
    host.infer_us = (uint64_t)infer_us;
    clock_gettime(CLOCK_MONOTONIC, &host.start);

    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal; /* no SA_RESTART: a blocked poll or write returns EINTR */
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The engine itself never allocates. The port sizes its two buffers exactly (a board would use
     * static arrays), so that under AddressSanitizer one byte written past either is a report. */
    cfg.cmd_buf = malloc((size_t)cmd_size + 1); /* a command and its terminating NUL */
    cfg.cmd_size = (size_t)cmd_size;
    cfg.db_buf = malloc(host.model->max_db);
    cfg.db_size = host.model->max_db;
    cfg.name = name;
    cfg.model = host.model->id;
    cfg.profile = NULL;
    cfg.energy_mode = energy;
    cfg.bin_chunk = (size_t)bin_chunk;
    if (!cfg.cmd_buf || !cfg.db_buf || ee_init(&cfg) != 0) {
        fprintf(stderr, "host-firmware: the engine refused its configuration\n");
        return 1;
    }
    if (mode == 1) {
        host.out_fd = STDOUT_FILENO;
        ee_boot();
        flush_line();
        return serve(STDIN_FILENO);
    }
    return run_pty();
}
