/* Block device contents: zeroing a released LV, copying an appliance image into a new one. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lvm_internal.h"

static void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

int lvm_wipe_device(const char *path, vcm_error *err) {
        /* O_EXCL on a block device fails with EBUSY while someone else claims it. */
        _cleanup_(closep) int fd = open(path, O_WRONLY | O_EXCL | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                vcm_error_set(err, "cannot open %s to wipe it: %s%s", path, strerror(-r),
                              r == -EBUSY ? " (still in use: exported or mounted?)" : "");
                return r;
        }
        uint64_t size;
        if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
                int r = -errno;
                vcm_error_set(err, "%s: cannot read its size: %s", path, strerror(-r));
                return r;
        }
        /* In slices, so a large LV does not sit in one uninterruptible ioctl. */
        const uint64_t slice = 256ull << 20;
        for (uint64_t off = 0; off < size; off += slice) {
                uint64_t range[2] = { off, size - off < slice ? size - off : slice };
                if (ioctl(fd, BLKZEROOUT, range) < 0) {
                        int r = -errno;
                        vcm_error_set(err, "%s: zeroing bytes %llu..%llu failed: %s", path,
                                      (unsigned long long)range[0],
                                      (unsigned long long)(range[0] + range[1]), strerror(-r));
                        return r;
                }
        }
        if (fsync(fd) < 0) {
                int r = -errno;
                vcm_error_set(err, "%s: flushing the zeroes failed: %s", path, strerror(-r));
                return r;
        }
        return 0;
}

int lvm_copy_device(const char *from, const char *to, vcm_error *err) {
        _cleanup_(closep) int in = open(from, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                int r = -errno;
                vcm_error_set(err, "cannot open the image %s: %s", from, strerror(-r));
                return r;
        }
        _cleanup_(closep) int out = open(to, O_WRONLY | O_EXCL | O_CLOEXEC);
        if (out < 0) {
                int r = -errno;
                vcm_error_set(err, "cannot open %s to copy the image into it: %s", to,
                              strerror(-r));
                return r;
        }
        uint64_t in_size, out_size;
        if (ioctl(in, BLKGETSIZE64, &in_size) < 0 || ioctl(out, BLKGETSIZE64, &out_size) < 0) {
                int r = -errno;
                vcm_error_set(err, "cannot read the sizes of %s and %s: %s", from, to,
                              strerror(-r));
                return r;
        }
        uint64_t left = in_size < out_size ? in_size : out_size;
        const size_t chunk = 1u << 20;
        _cleanup_free_ char *b = xmalloc(chunk);
        while (left > 0) {
                size_t want = left < chunk ? (size_t)left : chunk;
                ssize_t n = read(in, b, want);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -EIO;
                        vcm_error_set(err, "reading the image %s failed: %s", from, strerror(-r));
                        return r;
                }
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(out, b + done, (size_t)(n - done));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0) {
                                int r = w < 0 ? -errno : -EIO;
                                vcm_error_set(err, "writing %s failed: %s", to, strerror(-r));
                                return r;
                        }
                        done += w;
                }
                left -= (uint64_t)n;
        }
        if (fsync(out) < 0) {
                int r = -errno;
                vcm_error_set(err, "flushing %s failed: %s", to, strerror(-r));
                return r;
        }
        return 0;
}
