/*
 * port.c - the template port: copy this file into your board's project, add the engine's two
 * sources (firmware/api/ee_engine.c, ee_format.c), and replace every TODO(port). It compiles and
 * links as it is (tests/firmware builds it), so you can start from a working build and fill in one
 * hook at a time.
 *
 * The protocol (commands, parsing, every line the host reads) is the engine's; this file only
 * connects it to the board: a UART, a microsecond timer, a GPIO for energy mode, and the model.
 * See firmware/README.md for the order to do it in and how to check each step with the harness.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ee_engine.h"
#include "ee_hooks.h"

/* TODO(port): include your board's HAL / SDK headers and your model's (TFLM, CMSIS-NN, X-CUBE-AI...). */

/* TODO(port): the benchmark this firmware runs: kws01, vww01, ic01 or ad01 (the host reads it from
 * `profile` and picks its test script and dataset by it). */
#define MODEL_ID "kws01"

/* TODO(port): the largest `db load` you accept (MAX_DB_INPUT_SIZE of the reference):
 * kws01 490, vww01 27648, ic01 3072, ad01 5120 (the host sends 2560-byte windows). */
#define MAX_DB_INPUT_SIZE 490

/* TODO(port): the bytes one inference takes: kws01 490, vww01 27648, ic01 3072, ad01 2560. */
#define INPUT_SIZE 490

/* TODO(port): your model's output count: kws01 12, vww01 2, ic01 10, ad01 1 (the anomaly score). */
#define OUTPUTS 12

/* TODO(port): 1 for the energy-mode build (timestamps are GPIO pulses; the UART runs at 9600 behind
 * the interface board), 0 for performance and accuracy (m-lap-us lines; 115200 baud). */
#define ENERGY_MODE 0

/* The longest command: 80 as in the reference. The host sizes its `db` chunks to fit. */
#define CMD_SIZE 80

/* TODO(port): `db bin` (binary download, docs/binary_download.md): the host sends this many raw
 * bytes, then waits for an acknowledgement. Every byte must reach ee_rx() (a FIFO or an RX ring
 * buffer as deep as what arrives while the main loop is busy elsewhere); 0 switches it off and
 * the host downloads in hex. */
#define BIN_CHUNK 512

static char cmd_buf[CMD_SIZE + 1];
static uint8_t db_buf[MAX_DB_INPUT_SIZE];
static float outputs[OUTPUTS]; /* the last inference's output, zero before the first */

/* --- the hooks (ee_hooks.h) ------------------------------------------------------------------ */

void th_serial_write(const char *data, size_t len)
{
    /* TODO(port): send `len` bytes on the UART connected to the host, blocking until each is
     * accepted by the peripheral (e.g. HAL_UART_Transmit(&huart, (uint8_t *)data, len, HAL_MAX_DELAY)).
     * 8N1, no flow control. Do not add or translate line endings: the engine sends "\r\n". */
    (void)data;
    (void)len;
}

uint32_t th_timestamp_us(void)
{
    /* TODO(port): a free-running microsecond counter (at least 1 kHz resolution: a millisecond tick
     * times 1000 is accepted, a real microsecond timer is better). Let it wrap at 2^32; the host
     * unwraps. Performance mode only. */
    return 0;
}

void th_timestamp_pulse(void)
{
    /* TODO(port): energy mode only. Drive the timestamp GPIO (open drain, idle high) low for at least
     * 1 us, then high again: the energy monitor timestamps the falling edge (LPM01A D7, JS220 GPI0).
     * Keep it short and always the same length: it is inside the measured window. */
}

void th_load_tensor(const uint8_t *db, size_t loaded)
{
    /* TODO(port): copy (or convert) the downloaded input into the model's input tensor. `loaded` is
     * the number of bytes the host sent since its `db load`. kws01 bytes are int8 MFCCs; vww01 and
     * ic01 bytes are uint8 pixels (subtract 128 for an int8 model); ad01 bytes are float32 LE.
     * With too few bytes, keep the previous tensor and say so, as the reference does: */
    if (loaded < INPUT_SIZE) {
        ee_put("Input db has ");
        ee_put_uint((uint32_t)loaded);
        ee_put(" elemented, expected "); /* sic: the reference's text (ad01 counts float32s) */
        ee_put_uint((uint32_t)INPUT_SIZE);
        ee_put("\n");
        return;
    }
    (void)db; /* e.g. memcpy(input_tensor->data.int8, db, INPUT_SIZE); */
}

void th_infer(void)
{
    /* TODO(port): run one inference on the input tensor and keep the output (dequantised) in
     * outputs[]. Print nothing: this runs between the two timestamps. For ad01, outputs[0] is the
     * anomaly score (the mean squared error of the reconstruction). */
    memset(outputs, 0, sizeof outputs);
}

int th_result(size_t index, double *value)
{
    /* The engine prints these as %0.3f in m-results-[...]. Nothing to change unless your outputs are
     * stored elsewhere. */
    if (index >= OUTPUTS)
        return 0;
    *value = outputs[index];
    return 1;
}

/* --- the main loop --------------------------------------------------------------------------- */

/* TODO(port): one byte received on the host UART, if there is one (poll the peripheral, or take it
 * from the ring buffer your RX interrupt fills). Return 1 with *byte set, or 0. */
static int uart_poll_byte(uint8_t *byte)
{
    (void)byte;
    return 0;
}

int main(void)
{
    ee_config_t config = {0}; /* fields a newer engine adds stay 0: off */

    /* TODO(port): clocks, the host UART (115200 8N1; 9600 in energy mode, or what your devices yaml
     * says), the microsecond timer, the timestamp GPIO set high (energy mode), and the model
     * (allocate the arena, load the graph) - everything the hooks above need. */

    config.cmd_buf = cmd_buf;
    config.cmd_size = CMD_SIZE;
    config.db_buf = db_buf;
    config.db_size = MAX_DB_INPUT_SIZE;
    config.name = "TODO(port) vendor"; /* m-name-dut-[...]: your company or board */
    config.model = MODEL_ID;
    config.profile = NULL; /* EE_FW_VERSION, which hosts expect */
    config.energy_mode = ENERGY_MODE;
    config.bin_chunk = BIN_CHUNK;
    if (ee_init(&config) != 0)
        for (;;) {
        } /* a configuration error: halt where a debugger shows it */
    ee_boot(); /* m-timestamp-mode-..., m-init-done, m-ready */

    for (;;) {
        uint8_t byte;

        /* Commands run here, in the main loop, never inside the UART interrupt: `infer` takes
         * seconds. While it runs, bytes must not be lost: a hardware FIFO or an RX ring buffer. */
        if (uart_poll_byte(&byte))
            ee_rx(&byte, 1);
    }
}
