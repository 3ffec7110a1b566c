/*
 * ee_engine.c - command framing, parsing and the protocol's commands (protocol.md section 1).
 *
 * The answers are those of harness/virtual/dut.py byte for byte (it reproduces the reference
 * firmware), except where a command would have run on damaged input: see ee_engine.h. A command
 * is cut into words in place (spaces become NULs, as strtok does), nothing is copied, and every
 * store into a buffer is checked against the size the port gave: characters past cmd_size are not
 * stored, `db` bytes past the accepted `db load` size (itself at most db_size) are refused. The
 * code is written for size as much as for clarity: it is the part every board carries.
 *
 * `db bin N CRC` (docs/binary_download.md) switches ee_rx to raw mode: the next N bytes, whatever
 * they are, go straight into the db buffer (N <= db_size, checked before), with a running CRC-32,
 * and back to commands after the last one. There is no timer: only N bytes end it.
 */
#include <string.h>

#include "ee_engine.h"
#include "ee_hooks.h"

#define TERMINATOR '%'
#define MAX_TOKENS 4 /* no command reads more than `db bin N CRC`; more words are ignored */
#define CRC32_POLY 0xEDB88320u /* IEEE 802.3, reflected: zlib's crc32 */
#define FAULT_NUL 1  /* a NUL byte: the command is not one C string */
#define FAULT_LONG 2 /* more characters than cmd_size: the rest was not stored */

static struct {
    ee_config_t cfg;
    size_t cmd_len;      /* characters stored for the command being received */
    uint8_t fault;       /* refused at the terminator: FAULT_LONG or FAULT_NUL arrived */
    uint8_t enabled;     /* parser gate: ee_boot() done */
    uint8_t raw;         /* a `db bin` is receiving: every byte is data until db_pos == db_expect */
    size_t db_expect;    /* g_buff_size: the size of the last accepted `db load` (or `db bin`) */
    size_t db_pos;       /* g_buff_pos: bytes stored since */
    uint32_t crc;        /* `db bin`: the running CRC-32 register (complemented) of the bytes so far */
    uint32_t crc_expect; /* `db bin`: the CRC-32 the host announced */
} ee;

/* The reference help text, verbatim (typos included: hosts may match it). */
static const char help_text[] =
    "\r\n"
    "help         : Print this information\r\n"
    "name         : Print the name of the device\r\n"
    "timestsamp   : Generate a timetsamp\r\n"
    "db SUBCMD    : Manipulate a generic byte buffer\r\n"
    "  load N     : Allocate N bytes and set load counter\r\n"
    "  db HH[HH]* : Load 8-bit hex byte(s) until N bytes\r\n"
    "  print [N=16] [offset=0]\r\n"
    "             : Print N bytes at offset as hex\r\n"
    "infer N [W=0]: Load input, execute N inferences after W warmup loops\r\n"
    "results      : Return the result fp32 vector\r\n";

/* The words commands start with, then the `db` subcommands; word() gives the index. */
enum { W_NAME, W_TIMESTAMP, W_PROFILE, W_HELP, W_DB, W_INFER, W_RESULTS, W_CAPS, W_LOAD, W_PRINT, W_BIN, W_OTHER };
static const char *const words[W_OTHER] = {"name", "timestamp", "profile", "help", "db", "infer", "results",
                                           "caps", "load", "print", "bin"};

static int word(const char *tok)
{
    int i = 0;

    while (tok && i < W_OTHER && strcmp(tok, words[i]) != 0)
        i++; /* exact and case-sensitive, as strncmp(tok, "name", 80) == 0 */
    return tok ? i : W_OTHER;
}

static void put_line(const char *text)
{
    ee_put(text);
    ee_put("\r\n");
}

/* the low `digits` hex digits of value, lower case */
static void put_hex(uint32_t value, int digits)
{
    char text[8];
    int i = digits;

    while (i--) {
        text[i] = "0123456789abcdef"[value & 15u];
        value >>= 4;
    }
    th_serial_write(text, (size_t)digits);
}

/* `before`, a decimal, `after`: the shape of most numeric lines */
static void put_num(const char *before, uint32_t value, const char *after)
{
    ee_put(before);
    ee_put_uint(value);
    ee_put(after);
}

/* Host bytes echoed in an error line: printable ASCII only, so that a CR or LF in a damaged command
 * cannot split the error line and forge a line of its own (an `m-ready`). */
static void put_echo(const char *before, const char *text, size_t len, const char *after)
{
    ee_put(before);
    while (len--) {
        char c = (*text >= 0x20 && *text < 0x7f) ? *text : '?';

        text++;
        th_serial_write(&c, 1);
    }
    put_line(after);
}

/* C atoi as on a 32-bit MCU (leading blanks, a sign, digits; 0 without digits), saturating at the
 * int32 range instead of overflowing. */
static int32_t parse_int(const char *p)
{
    uint32_t value = 0, limit = 2147483647u;
    int negative;

    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    negative = *p == '-';
    if (*p == '+' || *p == '-')
        p++;
    limit += (uint32_t)negative; /* 2^31 for INT32_MIN */
    for (; *p >= '0' && *p <= '9'; p++) {
        value = value > 214748364u ? limit : value * 10u + (uint32_t)(*p - '0');
        if (value > limit)
            value = limit;
    }
    if (negative && value)
        return -(int32_t)(value - 1u) - 1; /* no overflow, even for 2^31 */
    return (int32_t)value;
}

/* `digits` hex digits (either case) at p into *value; 0 if one is not a hex digit (a NUL included,
 * so nothing past the end of a word is read) */
static int hex_number(const char *p, int digits, uint32_t *value)
{
    *value = 0;
    while (digits--) {
        char c = *p++;

        if (c >= '0' && c <= '9')
            c = (char)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            c = (char)((c | 0x20) - 'a' + 10);
        else
            return 0;
        *value = *value << 4 | (uint32_t)c;
    }
    return 1;
}

static void timestamp(void)
{
    if (ee.cfg.energy_mode)
        th_timestamp_pulse();
    else
        put_num("m-lap-us-", th_timestamp_us(), "\r\n");
}

static void print_results(void)
{
    double value;
    size_t i;

    ee_put("m-results-[");
    for (i = 0; i < EE_MAX_RESULTS && th_result(i, &value); i++) {
        if (i)
            ee_put(",");
        ee_put_fixed3(value);
    }
    put_line("]");
}

/* a download of `size` bytes (1..db_size) begins: the buffer is rewound */
static void expect(int32_t size)
{
    ee.db_pos = 0;
    ee.db_expect = (size_t)size;
    put_num("m-[Expecting ", (uint32_t)size, " bytes]\r\n");
}

static void db_load(const char *arg)
{
    int32_t size;

    if (!arg) {
        put_line("e-[Command 'db load' requires the # of bytes]");
        return;
    }
    size = parse_int(arg);
    ee.db_expect = 0; /* the reference stores the size before checking it */
    if (size == 0) {
        put_line("e-[Command 'db load' must be >0 bytes]");
        return;
    }
    if (size < 0 || (uint32_t)size > ee.cfg.db_size) {
        /* The reference's text (no m- prefix, a bare \n), but no size is kept: the following
         * `db` chunks are refused instead of running past the buffer. */
        ee.db_pos = 0;
        ee_put("Supplied buffer size ");
        ee_put_int(size);
        put_num(" exceeds maximum of ", (uint32_t)ee.cfg.db_size, "\n");
        return;
    }
    expect(size);
}

static void db_print(void)
{
    size_t i;

    /* the whole accepted size, 8 bytes a line; arguments are ignored, as in the reference */
    for (i = 0; i < ee.db_expect; i++) {
        ee_put(i % 8u ? "-" : "m-buffer-");
        put_hex(ee.cfg.db_buf[i], 2);
        if (i % 8u == 7u || i + 1 == ee.db_expect)
            ee_put("\r\n");
    }
    if (ee.db_expect % 8u)
        ee_put("\r\n"); /* after a short last row: the reference's stray empty line */
}

static void db_hex(const char *tok)
{
    size_t len = strlen(tok);

    if (len % 2u) {
        put_line("e-[Insufficent number of hex digits]"); /* sic */
        return;
    }
    if (ee.db_pos >= ee.db_expect) {
        put_line("e-[No room in the db buffer: send 'db load N' first]");
        return;
    }
    for (; *tok; tok += 2) {
        uint32_t byte;

        if (!hex_number(tok, 2, &byte)) { /* the pairs before it stay stored, as in the reference */
            put_echo("e-[Invalid hex digit '", tok, 2, "']");
            return;
        }
        ee.cfg.db_buf[ee.db_pos++] = (uint8_t)byte;
        if (ee.db_pos == ee.db_expect) { /* <= db_size: checked by db_load */
            put_line("m-load-done"); /* the rest of the token is ignored */
            return;
        }
    }
}

#if EE_BINARY_DOWNLOAD
/* `db bin N CRC`: checked in the virtual DUT's order; accepted, it answers m-[Expecting N bytes]
 * and no m-ready (dispatch sees ee.raw): the bytes that follow are data, see bin_byte(). */
static void db_bin(const char *n, const char *crc)
{
    int32_t size;
    uint32_t value;

    if (!ee.cfg.bin_chunk) {
        put_line("e-[Binary download is disabled]");
        return;
    }
    if (!crc) {
        put_line("e-[Command 'db bin' requires the # of bytes and the CRC-32]");
        return;
    }
    size = parse_int(n); /* n is there when crc is */
    if (size <= 0 || (uint32_t)size > ee.cfg.db_size) {
        put_num("e-[Command 'db bin' takes 1 to ", (uint32_t)ee.cfg.db_size, " bytes]\r\n");
        return;
    }
    if (!hex_number(crc, 8, &value) || crc[8]) {
        put_line("e-[Command 'db bin' requires the CRC-32 as 8 hex digits]");
        return;
    }
    ee.crc = 0xffffffffu;
    ee.crc_expect = value;
    ee.raw = 1;
    expect(size);
}

/* One byte of a `db bin` download: stored (db_pos < db_expect <= db_size), added to the CRC, and
 * acknowledged at the end of each chunk; the last one ends the download and raw mode. */
static void bin_byte(uint8_t c)
{
    uint32_t crc = ee.crc ^ c;
    int k;

    ee.cfg.db_buf[ee.db_pos++] = c;
    for (k = 0; k < 8; k++) /* bitwise: no 1 KB table */
        crc = (crc >> 1) ^ (CRC32_POLY & (0u - (crc & 1u)));
    ee.crc = crc;
    if (ee.db_pos < ee.db_expect) {
        if (ee.db_pos % ee.cfg.bin_chunk == 0)
            put_num("m-ack-", (uint32_t)ee.db_pos, "\r\n");
        return;
    }
    ee.raw = 0;
    crc = ~crc;
    if (crc == ee.crc_expect) {
        put_line("m-load-done");
    } else {
        ee_put("e-[CRC-32 mismatch: received ");
        put_hex(crc, 8);
        ee_put(", expected ");
        put_hex(ee.crc_expect, 8);
        put_line("]");
        ee.db_expect = ee.db_pos = 0; /* the damaged bytes never reach the model */
    }
    put_line("m-ready");
}
#endif /* EE_BINARY_DOWNLOAD */

static void infer(const char *n, const char *w)
{
    int32_t iterations = n ? parse_int(n) : 1, warmups = w ? parse_int(w) : EE_DEFAULT_WARMUPS, k;

    if (iterations <= 0) {
        put_line("e-[Inference iterations must be >0]");
        return;
    }
    if (warmups < 0) {
        put_line("e-[Inference warmup must be >=0]");
        return;
    }
    th_load_tensor(ee.cfg.db_buf, ee.db_pos);
    put_num("m-warmup-start-", (uint32_t)warmups, "\r\n");
    for (k = 0; k < warmups; k++)
        th_infer();
    put_num("m-warmup-done\r\nm-infer-start-", (uint32_t)iterations, "\r\n");
    timestamp();
    for (k = 0; k < iterations; k++)
        th_infer();
    timestamp();
    put_line("m-infer-done");
    print_results();
}

static void dispatch(void)
{
    char *tok[MAX_TOKENS] = {NULL};
    char *p = ee.cfg.cmd_buf;
    int count = 0;

    /* strtok(cmd, " "): runs of spaces separate words, cut in place; the first four are kept */
    ee.cfg.cmd_buf[ee.cmd_len] = '\0';
    for (; *p; p++) {
        if (*p == ' ')
            *p = '\0';
        else if ((p == ee.cfg.cmd_buf || p[-1] == '\0') && count < MAX_TOKENS)
            tok[count++] = p;
    }

    if (ee.fault == FAULT_LONG)
        put_num("e-[Command longer than ", (uint32_t)ee.cfg.cmd_size, " characters]\r\n");
    else if (ee.fault)
        put_line("e-[Command contains a NUL byte]");
    else if (!count)
        put_line("e-[Empty command]");
    else
        switch (word(tok[0])) {
        case W_NAME:
            ee_put("m-name-dut-[");
            ee_put(ee.cfg.name);
            put_line("]");
            break;
        case W_TIMESTAMP:
            timestamp();
            break;
        case W_PROFILE:
            ee_put("m-profile-[");
            ee_put(ee.cfg.profile);
            ee_put("]\r\nm-model-[");
            ee_put(ee.cfg.model);
            put_line("]");
            break;
        case W_HELP:
            put_line(ee.cfg.profile);
            ee_put(help_text);
            break;
        case W_DB:
            switch (word(tok[1])) {
            case W_OTHER:
                if (!tok[1]) {
                    put_line("e-[Command 'db' requires a subcommand]");
                    break;
                }
                /* fall through */
            default:
                db_hex(tok[1]);
                break;
            case W_LOAD:
                db_load(tok[2]);
                break;
            case W_PRINT:
                db_print();
                break;
#if EE_BINARY_DOWNLOAD
            case W_BIN:
                db_bin(tok[2], tok[3]);
                break;
#endif
            }
            break;
        case W_INFER:
            infer(tok[1], tok[2]);
            break;
        case W_RESULTS:
            print_results();
            break;
#if EE_BINARY_DOWNLOAD
        case W_CAPS:
            put_num("m-caps-[cmd=", (uint32_t)ee.cfg.cmd_size, ",db=");
            put_num("", (uint32_t)ee.cfg.db_size, ",bin=");
            put_num("", (uint32_t)ee.cfg.bin_chunk, "]\r\n");
            break;
#endif
        default:
            put_echo("e-[Unknown command: ", tok[0], strlen(tok[0]), "]");
        }
    if (!ee.raw)
        put_line("m-ready"); /* exactly one per command, always last (`db bin`: after its data) */
}

int ee_init(const ee_config_t *config)
{
    memset(&ee, 0, sizeof ee); /* parser disabled until ee_boot() */
    if (!config || !config->cmd_buf || !config->cmd_size || !config->db_buf || !config->db_size ||
        !config->name || !config->model)
        return -1;
    ee.cfg = *config;
    if (!ee.cfg.profile)
        ee.cfg.profile = EE_FW_VERSION;
    memset(ee.cfg.db_buf, 0, ee.cfg.db_size); /* `db print` before any load shows zeros */
    return 0;
}

void ee_boot(void)
{
    if (!ee.cfg.cmd_buf)
        return; /* ee_init() failed or was not called */
    put_line(ee.cfg.energy_mode ? "m-timestamp-mode-energy" : "m-timestamp-mode-performance");
    /* th_timestamp_initialize ends with one timestamp: a lap line, or in energy mode a pulse that
     * leaves the open-drain line high so that the monitor sees the next falling edge */
    timestamp();
    ee.enabled = 1;
    put_line("m-init-done\r\nm-ready");
}

void ee_rx(const uint8_t *data, size_t len)
{
    if (!ee.cfg.cmd_buf)
        return;
    while (len--) {
        uint8_t c = *data++;

#if EE_BINARY_DOWNLOAD
        if (ee.raw) {
            bin_byte(c);
            continue;
        }
#endif
        if (c == TERMINATOR) {
            if (ee.enabled) /* a command completed before boot is dropped, as in the reference */
                dispatch();
            ee.cmd_len = 0;
            ee.fault = 0;
        } else if (ee.cmd_len < ee.cfg.cmd_size) {
            ee.cfg.cmd_buf[ee.cmd_len++] = (char)c;
            if (!c)
                ee.fault |= FAULT_NUL;
        } else {
            ee.fault = FAULT_LONG; /* kept out of the buffer, reported at the terminator */
        }
    }
}
