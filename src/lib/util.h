/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef LIVEMIG_UTIL_H
#define LIVEMIG_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "64M", "1.5G", "250000" -> bytes (binary multiples). 0 or -EINVAL. */
int parse_size(const char *s, uint64_t *out);
/* "500ms", "2s", "5m", "1h", "3" (seconds) -> nanoseconds. 0 or -EINVAL. */
int parse_duration(const char *s, uint64_t *out_ns);

uint64_t now_mono_ns(void);
uint64_t now_real_ns(void);
void sleep_ns(uint64_t ns);

void hex_encode(const uint8_t *in, size_t n, char *out); /* out: 2n+1 */
int hex_decode(const char *in, uint8_t *out, size_t n);  /* exactly 2n hex digits */

/* "1.5 GiB" style, into buf. */
const char *fmt_bytes(uint64_t n, char *buf, size_t len);

/* Read or write a whole buffer at an offset, retrying short transfers and EINTR. */
int pread_full(int fd, void *buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* Fill buf from the OS random source. 0 or -errno. */
int random_bytes(void *buf, size_t len);

/* Machine and disk names become file names on staging: [A-Za-z0-9_-] and
 * dots not in first place, 1..63 characters. */
int name_valid(const char *s);

/* Replace every byte outside printable ASCII with '?', in place: the last
 * resort for a message that jansson refused as invalid UTF-8 (it quotes
 * untrusted input, or vsnprintf cut a character in two). */
void text_to_ascii(char *s);

#endif
