/*
 * ee_format.c - text output for the protocol engine without printf.
 *
 * printf would pull several kilobytes of library (and, for %f, floating-point support) into every
 * port, and its %f output differs between C libraries (newlib-nano omits it unless asked). The
 * results line must match what the hosts compare against: C printf("%0.3f") of the double, which is
 * also Python's f"{v:0.3f}" - the exact binary value rounded to 3 decimals, ties to even. That is
 * done here in integer arithmetic on the bits of the double: no floating-point operation, so no
 * soft-float library on an MCU without an FPU.
 */
#include <string.h>

#include "ee_engine.h"
#include "ee_hooks.h"

/* |v| * 1000 < 2^63 * 2^971 < 10^312: the decimal digits of the largest double, scaled */
#define DIGITS 313

void ee_put(const char *text)
{
    th_serial_write(text, strlen(text));
}

/* value * 2^doublings in decimal, with a point before the last `decimals` digits (and at least
 * one digit before it). Doubling the decimal digits gives the exact value of a double of any size
 * without a big-number division; it runs only for results beyond 2^53 / 1000. */
static void put_decimal(uint64_t value, int doublings, int decimals)
{
    char digit[DIGITS]; /* least significant first */
    int count = 0, i;

    do {
        digit[count++] = (char)(value % 10u);
        value /= 10u;
    } while (value);
    while (doublings-- > 0) {
        int carry = 0;

        for (i = 0; i < count; i++) {
            int twice = digit[i] * 2 + carry;

            carry = twice >= 10;
            digit[i] = (char)(twice - 10 * carry);
        }
        if (carry)
            digit[count++] = 1;
    }
    while (count <= decimals)
        digit[count++] = 0;
    while (count--) {
        char c = (char)('0' + digit[count]);

        th_serial_write(&c, 1);
        if (count == decimals && decimals)
            ee_put(".");
    }
}

void ee_put_uint(uint32_t value)
{
    put_decimal(value, 0, 0);
}

void ee_put_int(int32_t value)
{
    if (value < 0) {
        ee_put("-");
        /* via unsigned: -INT32_MIN does not fit an int32_t */
        ee_put_uint(0u - (uint32_t)value);
    } else {
        ee_put_uint((uint32_t)value);
    }
}

void ee_put_fixed3(double value)
{
    uint64_t bits, mant;
    int exponent;

    memcpy(&bits, &value, sizeof bits); /* IEEE 754 binary64, as on every target C99 ports to */
    exponent = (int)((bits >> 52) & 0x7ffu);
    mant = bits & 0xfffffffffffffu;
    if (exponent == 0x7ff) { /* Python prints nan without a sign; C libraries differ ("-nan") */
        ee_put(mant ? "nan" : (bits >> 63) ? "-inf" : "inf");
        return;
    }
    if (bits >> 63)
        ee_put("-"); /* also for -0.0 and for negatives that round to zero: "-0.000", as printf */
    if (exponent != 0)
        mant |= (uint64_t)1 << 52;
    else
        exponent = 1; /* subnormal */
    exponent -= 1075;  /* |value| = mant * 2^exponent */
    mant *= 1000u;     /* < 2^53 * 1000 < 2^63: exact */
    if (exponent < 0) {
        /* mant / 2^-exponent, rounded to nearest with ties to even. From a shift of 64 on,
         * mant < 2^63 is below half a unit: 0. */
        if (exponent < -63) {
            mant = 0;
        } else {
            unsigned shift = (unsigned)-exponent;
            uint64_t half = (uint64_t)1 << (shift - 1);
            uint64_t rest = mant & ((half << 1) - 1u);

            mant >>= shift;
            if (rest > half || (rest == half && (mant & 1u)))
                mant++;
        }
        exponent = 0;
    }
    put_decimal(mant, exponent, 3); /* |value| * 1000 = mant * 2^exponent, exactly */
}
