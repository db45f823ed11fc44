/* ltcdecode: libltc's decoder reading a WAV file, printing each frame as `stagebox ltc decode`
 * does (user bits, timecode, start and end sample, R when played backwards).
 *
 *     cc -O2 -o ltcdecode bench/ltcdecode.c -lltc
 *     ./ltcdecode FILE.wav [CHANNEL]
 *
 * The C side of bench/ltc_decode_cli.py: the whole process (read the file, decode, print)
 * against the whole `stagebox ltc decode` process. It reads RIFF WAV, 16-bit PCM or 32-bit
 * float, through the C library's buffered reads, 64 Ki frames at a time, takes one channel
 * (from 1) and feeds libltc's 16-bit (or float) writer; audio frames per video frame are set
 * for 25 fps (libltc follows the code's real speed from there). The rest of the WAV zoo
 * (RF64, 24-bit, odd chunks) is stagebox's job, not this benchmark's.
 */
#include <ltc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 65536 /* frames read and decoded at a time */
#define QUEUE 256   /* libltc's frame queue: far more than one block's frames */

static uint32_t le32(const unsigned char *p) {
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p) { return p[0] | p[1] << 8; }

static int fail(const char *path, const char *why) {
	fprintf(stderr, "ltcdecode: %s: %s\n", path, why);
	return 2;
}

static unsigned long long frames_out;

static void drain(LTCDecoder *dec) {
	LTCFrameExt f;
	SMPTETimecode t;
	while (ltc_decoder_read(dec, &f)) {
		ltc_frame_to_time(&t, &f.ltc, 0);
		uint32_t user = f.ltc.user1 | f.ltc.user2 << 4 | f.ltc.user3 << 8 | f.ltc.user4 << 12 |
		                f.ltc.user5 << 16 | f.ltc.user6 << 20 | f.ltc.user7 << 24 |
		                (uint32_t)f.ltc.user8 << 28;
		printf("%08x   %02d:%02d:%02d%c%02d | %8lld %8lld%s\n", user, t.hours, t.mins, t.secs,
		       f.ltc.dfbit ? ';' : ':', t.frame, (long long)f.off_start, (long long)f.off_end,
		       f.reverse ? " R" : "");
		frames_out++;
	}
}

int main(int argc, char **argv) {
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ltcdecode FILE.wav [CHANNEL]\n");
		return 2;
	}
	const char *path = argv[1];
	int channel = argc == 3 ? atoi(argv[2]) : 1;
	FILE *in = fopen(path, "rb");
	if (!in) {
		perror(path);
		return 2;
	}
	unsigned char head[12], ck[8], fmt[40];
	if (fread(head, 1, 12, in) != 12 || memcmp(head, "RIFF", 4) || memcmp(head + 8, "WAVE", 4))
		return fail(path, "not a RIFF WAVE file");
	int have_fmt = 0, tag = 0, channels = 0, bits = 0;
	uint32_t rate = 0, data_size = 0;
	for (;;) { /* walk the chunks to `data` */
		if (fread(ck, 1, 8, in) != 8)
			return fail(path, "no data chunk");
		uint32_t size = le32(ck + 4);
		if (!memcmp(ck, "data", 4)) {
			data_size = size;
			break;
		}
		if (!memcmp(ck, "fmt ", 4) && size >= 16 && size <= sizeof fmt) {
			if (fread(fmt, 1, size, in) != size)
				return fail(path, "short fmt chunk");
			tag = le16(fmt), channels = le16(fmt + 2), rate = le32(fmt + 4), bits = le16(fmt + 14);
			if (tag == 0xFFFE && size >= 26)
				tag = le16(fmt + 24); /* EXTENSIBLE: the subformat's tag */
			have_fmt = 1;
			if (size & 1)
				fseek(in, 1, SEEK_CUR);
		} else if (fseek(in, size + (size & 1), SEEK_CUR))
			return fail(path, "truncated chunk");
	}
	if (!have_fmt)
		return fail(path, "no fmt chunk before the data");
	int is_s16 = tag == 1 && bits == 16, is_f32 = tag == 3 && bits == 32;
	if (!is_s16 && !is_f32)
		return fail(path, "only 16-bit PCM and 32-bit float are read here");
	if (channel < 1 || channel > channels)
		return fail(path, "no such channel");
	size_t width = bits / 8, frame_bytes = width * channels;
	unsigned long long total = data_size / frame_bytes; /* 0 or 0xFFFFFFFF: to the end */
	if (data_size == 0 || data_size == 0xFFFFFFFFu)
		total = ~0ULL;

	LTCDecoder *dec = ltc_decoder_create(rate / 25, QUEUE);
	unsigned char *raw = malloc(BLOCK * frame_bytes);
	short *s16 = malloc(BLOCK * sizeof(short));
	float *f32 = malloc(BLOCK * sizeof(float));
	static char outbuf[1 << 16];
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	unsigned long long pos = 0;
	while (pos < total) {
		size_t want = total - pos < BLOCK ? (size_t)(total - pos) : BLOCK;
		size_t got = fread(raw, frame_bytes, want, in);
		if (got == 0)
			break;
		const unsigned char *p = raw + (channel - 1) * width;
		if (is_s16) {
			if (channels == 1)
				memcpy(s16, raw, got * 2);
			else
				for (size_t i = 0; i < got; i++, p += frame_bytes)
					memcpy(s16 + i, p, 2);
			ltc_decoder_write_s16(dec, s16, got, pos);
		} else {
			for (size_t i = 0; i < got; i++, p += frame_bytes)
				memcpy(f32 + i, p, 4);
			ltc_decoder_write_float(dec, f32, got, pos);
		}
		drain(dec);
		pos += got;
	}
	fflush(stdout);
	fprintf(stderr, "%s: %llu frames\n", path, frames_out);
	ltc_decoder_free(dec);
	free(raw), free(s16), free(f32);
	fclose(in);
	return 0;
}
