/*
 * ee_hooks.h - what a port implements for the MLPerf Tiny protocol engine (ee_engine.c).
 *
 * The engine owns the protocol (framing, parsing, every line the host reads); a port owns the
 * hardware and the model. These six functions are the whole boundary. The engine calls them from
 * inside ee_rx() / ee_boot(), i.e. from wherever the port calls those (its main loop), never from an
 * interrupt of its own. None of them may call ee_rx() or ee_boot() back.
 *
 * The reference API's names (th_serialport_*, th_timestamp, th_load_tensor, th_infer, th_results)
 * are kept where the meaning is the same, so a port of the reference firmware maps over directly.
 */
#ifndef EE_HOOKS_H
#define EE_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Serial out: send `len` bytes to the host on the DUT's UART (8N1), in order, and return once they
 * are queued or sent; blocking is fine (the protocol is half duplex). The engine emits each line in
 * a few pieces and ends every line with "\r\n" (two reference texts end with a bare "\n"). */
void th_serial_write(const char *data, size_t len);

/* Timestamp (performance mode): a free-running microsecond counter, at least 1 kHz resolution
 * (EEMBC). It is printed as m-lap-us-<value>; wrapping at 2^32 is expected and handled by hosts. */
uint32_t th_timestamp_us(void);

/* Energy-mode pin: drive the timestamp GPIO low for at least 1 us, then high again (idle level high,
 * open drain). The energy monitor timestamps the falling edge. Called instead of printing a lap line
 * when ee_config_t.energy_mode is set, once at boot (so the line idles high) and twice per `infer`. */
void th_timestamp_pulse(void);

/* Load tensor: `infer` is about to run; the first `loaded` bytes of the db buffer are what the host
 * sent since its last `db load` (loaded may be 0, or fewer than the model takes). Copy or convert
 * them into the model's input tensor. If they are too few, keep the previous tensor and say so with
 * ee_put()/ee_put_uint() (the reference prints "Input db has N elemented, expected M\n"). */
void th_load_tensor(const uint8_t *db, size_t loaded);

/* Infer: run the model once on the input tensor. Called W times (warmup, untimed) and then N times
 * between the two timestamps of `infer N W`; it must not print anything. */
void th_infer(void);

/* Results: store output value `index` of the last inference in *value and return 1, or return 0
 * past the last one. Before any inference, return the zeroed output tensor. The engine prints the
 * values as `%0.3f` (correctly rounded, as C printf and Python format a double). */
int th_result(size_t index, double *value);

#ifdef __cplusplus
}
#endif

#endif /* EE_HOOKS_H */
