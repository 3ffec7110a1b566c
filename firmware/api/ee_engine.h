/*
 * ee_engine.h - the DUT side of the MLPerf Tiny serial protocol, in portable C99.
 *
 * Wire-compatible with the reference firmware (benchmark/api/internally_implemented.cpp) and with
 * the harness's virtual DUT (harness/virtual/dut.py): same commands, same lines, same typos in the
 * reference texts hosts may already match. Where the reference has undefined behaviour, or runs
 * a damaged command, it answers instead, with an `e-[...]` line followed by `m-ready`:
 *
 *   - a command longer than the command buffer is refused, not cut short and run;
 *   - an empty command, or one holding a NUL byte, is refused (the reference dereferences NULL);
 *   - `db <hex>` with no room left is refused (the reference writes past its buffer);
 *   - `db load N` beyond the buffer keeps no size (the reference keeps it and overflows later); its
 *     answer stays the reference's "Supplied buffer size N exceeds maximum of M\n", which hosts
 *     and the virtual DUT expect;
 *   - bytes echoed back in an error are printable ASCII (others print as '?'), so a noisy line can
 *     never forge an `m-ready` for the host.
 *
 * It adds two commands (docs/binary_download.md), which the reference answers as unknown input:
 * `caps` (m-caps-[cmd=C,db=D,bin=B]) and `db bin N CRC`, a download of N raw bytes in chunks of
 * bin_chunk bytes, acknowledged chunk by chunk and checked with a CRC-32. The help text does not
 * list them: it stays the reference's, verbatim.
 *
 * No malloc, no recursion, no printf, no floating-point arithmetic: every buffer is the port's, and
 * its size is checked on every store. Typical use from a port's main():
 *
 *     static char cmd[80 + 1];             // EE_CMD_SIZE 80, as the reference, and a NUL
 *     static uint8_t db[490];              // MAX_DB_INPUT_SIZE of the model
 *     ee_config_t cfg = {cmd, sizeof cmd - 1, db, sizeof db, "vendor", "kws01", NULL, 0, 512};
 *     ee_init(&cfg);  ...model and UART set up...  ee_boot();
 *     for (;;) { uint8_t c = uart_getc(); ee_rx(&c, 1); }
 */
#ifndef EE_ENGINE_H
#define EE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EE_FW_VERSION "ULPMark for tinyML Firmware V0.0.1"

/* `infer` with no W runs this many warmups: the reference's value. Its help text says W=0; the help
 * is kept verbatim for hosts matching it, so hosts must always send W (the MLCommons runner and this
 * repository's harness do). */
#ifndef EE_DEFAULT_WARMUPS
#define EE_DEFAULT_WARMUPS 10
#endif

/* 1: the engine answers `caps` and `db bin` (docs/binary_download.md), about 800 bytes of code; 0: it
 * answers them as the reference does (unknown command, odd hex digits), and fits in under 4 KB. */
#ifndef EE_BINARY_DOWNLOAD
#define EE_BINARY_DOWNLOAD 1
#endif

/* At most this many values are asked of th_result() per results line (a bound on a port's bug). */
#ifndef EE_MAX_RESULTS
#define EE_MAX_RESULTS 1024
#endif

typedef struct ee_config {
    char *cmd_buf;          /* the command buffer: cmd_size + 1 bytes (a command and its NUL) */
    size_t cmd_size;        /* EE_CMD_SIZE, the longest command: 80 in the reference, 1028 in SWW */
    uint8_t *db_buf;        /* the input buffer `db` fills */
    size_t db_size;         /* MAX_DB_INPUT_SIZE: the largest `db load N` accepted */
    const char *name;       /* printed as m-name-dut-[name] (TH_VENDOR_NAME_STRING) */
    const char *model;      /* printed as m-model-[model]: kws01, vww01, ic01, ad01 */
    const char *profile;    /* m-profile-[...] and the help banner; NULL: EE_FW_VERSION */
    int energy_mode;        /* 1: timestamps pulse th_timestamp_pulse(); 0: m-lap-us lines */
    size_t bin_chunk;       /* `db bin`: raw bytes the host sends before it waits for an m-ack
                               line (none may be lost while ee_rx runs); 0: `db bin` is refused */
} ee_config_t;

/* Power-on state: parser disabled, the db buffer zeroed. The configuration is copied; the buffers
 * it points to are the engine's from now on. Returns 0, or -1 if a buffer, the name or the model is
 * missing, or cmd_size or db_size is 0 (the engine then ignores every other call); bin_chunk 0 only
 * switches `db bin` off. */
int ee_init(const ee_config_t *config);

/* The boot banner (m-timestamp-mode-..., one timestamp, m-init-done, m-ready); commands completed
 * before this are dropped, as in the reference. Call it once the port's UART, timer and model work. */
void ee_boot(void);

/* Bytes received from the host, in order. A `%` completes a command, which runs before ee_rx
 * returns (an `infer` may take seconds): call it from the main loop, not from the UART interrupt. */
void ee_rx(const uint8_t *data, size_t len);

/* Output helpers for ports (th_load_tensor's message, a port's own commands): no printf needed. */
void ee_put(const char *text);          /* a NUL-terminated string, as it is */
void ee_put_uint(uint32_t value);       /* decimal */
void ee_put_int(int32_t value);         /* decimal, with '-' when negative */
void ee_put_fixed3(double value);       /* as printf("%0.3f") and Python f"{v:0.3f}": correctly
                                           rounded (ties to even), "-0.000", "inf", "-inf", "nan" */

#ifdef __cplusplus
}
#endif

#endif /* EE_ENGINE_H */
