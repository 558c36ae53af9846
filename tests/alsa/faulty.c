/*
 * A test ALSA PCM (alsa-lib's external "ioplug" plugin API) that fails the way hardware does:
 * an overrun/underrun (xrun) once after a number of frames, and the device vanishing (ENODEV,
 * as a USB interface being unplugged) after another. Capture gives silence and playback takes
 * anything, both as fast as they are asked (no clock), like alsa-lib's "null" PCM.
 *
 *   pcm_type.faulty { lib "/path/libasound_module_pcm_faulty.so" }
 *   pcm.line { type faulty xrun_at 80000 gone_at 0 log "/path/line.log" }
 *
 * xrun_at and gone_at count the frames each direction moved; 0 is never. The log gets a line
 * for what happened to the device ("open capture", "xrun capture", "prepare capture",
 * "gone playback", "close capture 96000": the frames it moved), for the test to check that
 * the program recovered (prepared the PCM again after the xrun) and went on.
 *
 * Built by the tests that use it (tests/common/alsa.rs), with the system's alsa-lib headers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

struct faulty {
	snd_pcm_ioplug_t io;
	long xrun_at, gone_at;
	FILE *log;
	snd_pcm_uframes_t moved, hw;
	int xrun_done;
};

static const char *dir(snd_pcm_ioplug_t *io)
{
	return io->stream == SND_PCM_STREAM_CAPTURE ? "capture" : "playback";
}

static void note(struct faulty *f, const char *what)
{
	if (f->log) {
		fprintf(f->log, "%s %s\n", what, dir(&f->io));
		fflush(f->log);
	}
}

/* Gone: as a USB sound device unplugged, the PCM is disconnected for good. */
static int gone(struct faulty *f)
{
	if (f->gone_at > 0 && f->moved >= (snd_pcm_uframes_t)f->gone_at) {
		note(f, "gone");
		snd_pcm_ioplug_set_state(&f->io, SND_PCM_STATE_DISCONNECTED);
		return 1;
	}
	return 0;
}

static int faulty_prepare(snd_pcm_ioplug_t *io)
{
	if (gone(io->private_data))
		return -ENODEV;
	note(io->private_data, "prepare");
	return 0;
}

static int faulty_start(snd_pcm_ioplug_t *io) { (void)io; return 0; }
static int faulty_stop(snd_pcm_ioplug_t *io) { (void)io; return 0; }

static snd_pcm_sframes_t faulty_pointer(snd_pcm_ioplug_t *io)
{
	struct faulty *f = io->private_data;
	if (gone(f))
		return -ENODEV;
	if (f->xrun_at > 0 && !f->xrun_done && f->moved >= (snd_pcm_uframes_t)f->xrun_at) {
		f->xrun_done = 1;
		note(f, "xrun");
		return -EPIPE;
	}
	/* Capture: a period always waiting; playback: all of it played at once. */
	f->hw = io->appl_ptr + (io->stream == SND_PCM_STREAM_CAPTURE ? io->period_size : 0);
	return f->hw % io->buffer_size;
}

static snd_pcm_sframes_t faulty_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
					 snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct faulty *f = io->private_data;
	if (gone(f))
		return -ENODEV;
	if (io->stream == SND_PCM_STREAM_CAPTURE)
		snd_pcm_areas_silence(areas, offset, io->channels, size, io->format);
	f->moved += size;
	return size;
}

static int faulty_close(snd_pcm_ioplug_t *io)
{
	struct faulty *f = io->private_data;
	if (f->log) {
		fprintf(f->log, "close %s %lu\n", dir(io), (unsigned long)f->moved);
		fclose(f->log);
	}
	close(io->poll_fd);
	free(f);
	return 0;
}

static const snd_pcm_ioplug_callback_t faulty_callback = {
	.prepare = faulty_prepare,
	.start = faulty_start,
	.stop = faulty_stop,
	.pointer = faulty_pointer,
	.transfer = faulty_transfer,
	.close = faulty_close,
};

SND_PCM_PLUGIN_DEFINE_FUNC(faulty)
{
	snd_config_iterator_t i, next;
	long xrun_at = 0, gone_at = 0;
	const char *log = NULL;
	(void)root;
	snd_config_for_each(i, next, conf) {
		snd_config_t *n = snd_config_iterator_entry(i);
		const char *id;
		if (snd_config_get_id(n, &id) < 0)
			continue;
		if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint"))
			continue;
		if (!strcmp(id, "xrun_at") && snd_config_get_integer(n, &xrun_at) == 0)
			continue;
		if (!strcmp(id, "gone_at") && snd_config_get_integer(n, &gone_at) == 0)
			continue;
		if (!strcmp(id, "log") && snd_config_get_string(n, &log) == 0)
			continue;
		SNDERR("faulty: unknown field %s", id);
		return -EINVAL;
	}
	struct faulty *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->xrun_at = xrun_at;
	f->gone_at = gone_at;
	f->log = log ? fopen(log, "a") : NULL;
	f->io.version = SND_PCM_IOPLUG_VERSION;
	f->io.name = "faulty test PCM";
	f->io.callback = &faulty_callback;
	f->io.private_data = f;
	/* Always ready: an eventfd whose counter is never read. */
	f->io.poll_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	f->io.poll_events = stream == SND_PCM_STREAM_CAPTURE ? POLLIN : POLLOUT;
	int err = snd_pcm_ioplug_create(&f->io, name, stream, mode);
	if (err < 0) {
		close(f->io.poll_fd);
		if (f->log)
			fclose(f->log);
		free(f);
		return err;
	}
	note(f, "open");
	static const unsigned int formats[] = { SND_PCM_FORMAT_S16_LE };
	static const unsigned int access[] = { SND_PCM_ACCESS_RW_INTERLEAVED };
	if ((err = snd_pcm_ioplug_set_param_list(&f->io, SND_PCM_IOPLUG_HW_ACCESS, 1, access)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_list(&f->io, SND_PCM_IOPLUG_HW_FORMAT, 1, formats)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 2)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_RATE, 8000, 48000)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_PERIODS, 2, 64)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 64, 64 * 1024)) < 0) {
		snd_pcm_ioplug_delete(&f->io);
		return err;
	}
	*pcmp = f->io.pcm;
	return 0;
}

SND_PCM_PLUGIN_SYMBOL(faulty);
