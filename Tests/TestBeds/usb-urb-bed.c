/*
 * usb-urb-bed — a umockdev test bed for the libusb bulk path (issue 12: the camera over USB).
 *
 * Declares USB device 001/002 (VID:PID 0403:6001 unless --vid/--pid, vendor interface 0 with
 * bulk IN 0x81 and bulk OUT 0x01) and answers the usbfs URB ioctls on /dev/bus/usb/001/002
 * itself, through a UMockdevIoctlBase "handle-ioctl" handler (umockdev ≥ 0.16):
 *
 * - USBDEVFS_SUBMITURB: the URB and its buffer are read from the client
 *   (umockdev_ioctl_data_resolve). A bulk OUT URB's bytes go to the device (the --serve
 *   program's fd 3, or back to IN without --serve) and the URB completes at once with every
 *   byte accepted; a bulk IN URB waits in a queue.
 * - Device bytes complete queued IN URBs in submission order, each with as many bytes as are
 *   waiting (at most its buffer; a short packet ends a transfer, as on a real bus).
 * - USBDEVFS_REAPURB / REAPURBNDELAY: the oldest completed URB is handed back
 *   (umockdev_ioctl_data_set_ptr on the resolved void* slot, which also copies the URB and
 *   its buffer back to the client); EAGAIN when none is complete. REAPURB does not block
 *   (see below).
 * - USBDEVFS_DISCARDURB: a queued IN URB completes with status -ENOENT; EINVAL if it
 *   already completed (what the kernel answers, and what libusb expects).
 * - USBDEVFS_GET_CAPABILITIES: BULK_CONTINUATION. Every other usbfs ioctl (CLAIMINTERFACE,
 *   RELEASEINTERFACE, SETINTERFACE, CLEAR_HALT, DISCONNECT_CLAIM, IOCTL for driver
 *   detach, ...) answers 0: there is no kernel driver to detach and one interface to claim.
 *
 * What cannot be served like the kernel does, and why:
 * - waking libusb's poll(): usbfs signals a completed URB with POLLOUT on the device fd; under
 *   the preload that fd is umockdev's, always ready, so libusb's event thread reaps in a loop
 *   (REAPURBNDELAY → EAGAIN) instead of sleeping. Correct, but it costs CPU while a transfer
 *   is queued.
 * - a blocking REAPURB: the handler runs on the bed's main loop, which must keep running to
 *   pump device bytes, so REAPURB answers EAGAIN like REAPURBNDELAY (libusb uses only
 *   REAPURBNDELAY).
 * - isochronous and control URBs, and bulk streams: refused with EINVAL (the camera uses
 *   bulk only; descriptors come from sysfs, so libusb sends no control transfer to open).
 * - multi-URB transfers: libusb splits transfers above 16 KiB into URBs chained with
 *   USBDEVFS_URB_BULK_CONTINUATION; after a short URB the kernel cancels the rest of that
 *   transfer. The bed does the same (the rest complete with -EREMOTEIO and no data).
 *
 * Usage:
 *   usb-urb-bed --self-test                 libusb OUT/IN loopback through the handler
 *   usb-urb-bed [--vid V --pid P] [--serial S] [--serve 'CMD'] -- PROGRAM ARGS
 *     PROGRAM runs under LD_PRELOAD=libumockdev-preload.so.0; CMD runs under /bin/sh with the
 *     device's end of a socketpair as fd 3 (for example 'pnnlab emulate camera --fd 3').
 *     Exit status: PROGRAM's. The bed prints its ioctl counts on stderr.
 *
 * Build: cc usb-urb-bed.c $(pkg-config --cflags --libs umockdev-1.0 libusb-1.0) -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <libusb.h>
#include <linux/usbdevice_fs.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <umockdev.h>
#include <unistd.h>

typedef struct {
    UMockdevIoctlClient *client; /* the opened fd that submitted it */
    UMockdevIoctlData *urb;
    UMockdevIoctlData *buf;
    unsigned long addr;
} Pending;

static GQueue pending_in = G_QUEUE_INIT, completed = G_QUEUE_INIT;
static GByteArray *from_device, *to_device;
static int dev_fd = -1;
static guint out_watch = 0;
static gboolean device_gone = FALSE;
static unsigned long n_submit = 0, n_reap = 0, n_empty_reap = 0, n_discard = 0, n_other = 0;
static unsigned long long bytes_out = 0, bytes_in = 0;

/* umockdev runs ioctl handlers on its worker thread ("umockdev-testbed-worker"), while the
 * device socket's watches run on this program's main loop: every touch of the queues and
 * buffers above happens under this lock (without it a reap raced a completion, losing a URB
 * or freeing it twice). */
static GMutex state_lock;

static int trace = 0; /* BED_TRACE=1: one line per URB event on stderr */
#define TRACE(...) do { if (trace) { fprintf(stderr, "usb-urb-bed %8.3f ms: ", g_get_monotonic_time() / 1000.0); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static struct usbdevfs_urb *urb_of(Pending *p) { return (struct usbdevfs_urb *)p->urb->data; }

/* Completes queued IN URBs from the device's bytes, oldest first. */
static void drop(Pending *p) {
    g_object_unref(p->client);
    g_object_unref(p->urb);
    if (p->buf) g_object_unref(p->buf);
    g_free(p);
}

/* Forgets the URBs of clients that closed the device (libusb_close, process exit). */
static void purge(GQueue *q) {
    for (GList *l = q->head; l;) {
        GList *next = l->next;
        Pending *p = l->data;
        if (!umockdev_ioctl_client_get_connected(p->client)) {
            TRACE("drop URB %#lx of a closed client", p->addr);
            g_queue_delete_link(q, l);
            drop(p);
        }
        l = next;
    }
}

static void pump(void) {
    purge(&pending_in);
    while (from_device->len > 0 && !g_queue_is_empty(&pending_in)) {
        Pending *p = g_queue_pop_head(&pending_in);
        struct usbdevfs_urb *u = urb_of(p);
        size_t n = MIN((size_t)from_device->len, (size_t)u->buffer_length);
        if (n > 0 && p->buf) memcpy(p->buf->data, from_device->data, n);
        g_byte_array_remove_range(from_device, 0, (guint)n);
        bytes_in += n;
        u->actual_length = (int)n;
        u->status = 0;
        TRACE("IN URB %#lx completes with %zu bytes", p->addr, n);
        g_queue_push_tail(&completed, p);
        if (n < (size_t)u->buffer_length) {
            /* A short packet ends the transfer: the kernel cancels its continuation URBs. */
            while (!g_queue_is_empty(&pending_in)) {
                Pending *q = g_queue_peek_head(&pending_in);
                if (!(urb_of(q)->flags & USBDEVFS_URB_BULK_CONTINUATION)) break;
                g_queue_pop_head(&pending_in);
                urb_of(q)->actual_length = 0;
                urb_of(q)->status = -EREMOTEIO;
                g_queue_push_tail(&completed, q);
            }
        }
    }
    if (device_gone) {
        /* The device end closed: every queued IN URB fails as on an unplug. */
        while (!g_queue_is_empty(&pending_in)) {
            Pending *p = g_queue_pop_head(&pending_in);
            urb_of(p)->status = -ENODEV;
            urb_of(p)->actual_length = 0;
            g_queue_push_tail(&completed, p);
        }
    }
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer user);

/* Sends queued OUT bytes to the device without blocking the main loop. */
static void flush_to_device(void) {
    while (to_device->len > 0) {
        ssize_t w = write(dev_fd, to_device->data, to_device->len);
        if (w > 0) {
            g_byte_array_remove_range(to_device, 0, (guint)w);
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && errno == EAGAIN) {
            if (!out_watch) out_watch = g_unix_fd_add(dev_fd, G_IO_OUT, on_writable, NULL);
            return;
        } else {
            device_gone = TRUE;
            g_byte_array_set_size(to_device, 0);
            return;
        }
    }
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer user) {
    (void)fd; (void)cond; (void)user;
    g_mutex_lock(&state_lock);
    out_watch = 0;
    flush_to_device();
    g_mutex_unlock(&state_lock);
    return G_SOURCE_REMOVE;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer user) {
    (void)user;
    unsigned char chunk[65536];
    ssize_t n = (cond & G_IO_IN) ? read(fd, chunk, sizeof chunk) : 0;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return G_SOURCE_CONTINUE;
    g_mutex_lock(&state_lock);
    if (n > 0) {
        g_byte_array_append(from_device, chunk, (guint)n);
    } else {
        device_gone = TRUE;
    }
    pump();
    g_mutex_unlock(&state_lock);
    return n > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void complete(UMockdevIoctlClient *client, long result, int err) { umockdev_ioctl_client_complete(client, result, err); }

static gboolean on_ioctl_locked(UMockdevIoctlClient *client) {
    gulong req = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    GError *err = NULL;
    if (req == USBDEVFS_SUBMITURB) {
        n_submit++;
        unsigned long addr; /* the client's URB address: resolve() replaces it with the bed's copy */
        memcpy(&addr, arg->data, sizeof addr);
        UMockdevIoctlData *ud = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &err);
        if (!ud) { g_clear_error(&err); complete(client, -1, EFAULT); return TRUE; }
        struct usbdevfs_urb *u = (struct usbdevfs_urb *)ud->data;
        if (u->type != USBDEVFS_URB_TYPE_BULK || u->buffer_length < 0) { complete(client, -1, EINVAL); return TRUE; }
        if (device_gone) { complete(client, -1, ENODEV); return TRUE; }
        UMockdevIoctlData *bd = NULL;
        if (u->buffer_length > 0) {
            bd = umockdev_ioctl_data_resolve(ud, offsetof(struct usbdevfs_urb, buffer), (gsize)u->buffer_length, &err);
            if (!bd) { g_clear_error(&err); complete(client, -1, EFAULT); return TRUE; }
        }
        Pending *p = g_new0(Pending, 1);
        p->client = g_object_ref(client);
        p->urb = g_object_ref(ud);
        p->buf = bd ? g_object_ref(bd) : NULL;
        p->addr = addr;
        TRACE("submit %s URB %#lx, %d bytes, flags %#x", (u->endpoint & 0x80) ? "IN" : "OUT", p->addr, u->buffer_length, u->flags);
        if (u->endpoint & 0x80) {
            g_queue_push_tail(&pending_in, p);
        } else {
            if (u->buffer_length > 0) {
                if (dev_fd >= 0) {
                    g_byte_array_append(to_device, bd->data, (guint)u->buffer_length);
                    flush_to_device();
                } else {
                    g_byte_array_append(from_device, bd->data, (guint)u->buffer_length);
                }
            }
            bytes_out += (unsigned long long)u->buffer_length;
            u->actual_length = u->buffer_length;
            u->status = 0;
            g_queue_push_tail(&completed, p);
        }
        pump();
        complete(client, 0, 0);
        return TRUE;
    }
    if (req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB) {
        purge(&completed);
        Pending *p = NULL;
        for (GList *l = completed.head; l; l = l->next) {
            if (((Pending *)l->data)->client == client) {
                p = l->data;
                g_queue_delete_link(&completed, l);
                break;
            }
        }
        if (!p) {
            n_empty_reap++;
            complete(client, -1, device_gone && g_queue_is_empty(&pending_in) ? ENODEV : EAGAIN);
            return TRUE;
        }
        n_reap++;
        TRACE("reap URB %#lx, status %d, %d bytes", p->addr, urb_of(p)->status, urb_of(p)->actual_length);
        UMockdevIoctlData *slot = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &err);
        if (!slot || !umockdev_ioctl_data_set_ptr(slot, 0, p->urb)) {
            g_clear_error(&err);
            complete(client, -1, EFAULT);
        } else {
            complete(client, 0, 0);
        }
        drop(p);
        return TRUE;
    }
    if (req == USBDEVFS_DISCARDURB) {
        n_discard++;
        unsigned long addr;
        memcpy(&addr, arg->data, sizeof addr);
        TRACE("discard URB %#lx", addr);
        for (GList *l = pending_in.head; l; l = l->next) {
            Pending *p = l->data;
            if (p->addr == addr && p->client == client) {
                g_queue_delete_link(&pending_in, l);
                urb_of(p)->status = -ENOENT;
                urb_of(p)->actual_length = 0;
                g_queue_push_tail(&completed, p);
                complete(client, 0, 0);
                return TRUE;
            }
        }
        complete(client, -1, EINVAL);
        return TRUE;
    }
    n_other++;
    TRACE("ioctl %#lx answered 0", (unsigned long)req);
    if (req == USBDEVFS_GET_CAPABILITIES) {
        UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned int), &err);
        if (d) *(unsigned int *)d->data = USBDEVFS_CAP_BULK_CONTINUATION;
        g_clear_error(&err);
    }
    complete(client, 0, 0);
    return TRUE;
}

/* Runs on umockdev's worker thread: the state is shared with the main loop's watches. */
static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user) {
    (void)base; (void)user;
    g_mutex_lock(&state_lock);
    gboolean handled = on_ioctl_locked(client);
    g_mutex_unlock(&state_lock);
    return handled;
}

/* The self-test's client: libusb bulk OUT then IN through the handler, bytes compared. */
static int self_test_child(void) {
    libusb_context *ctx = NULL;
    if (libusb_init(&ctx)) return 10;
    libusb_device_handle *h = libusb_open_device_with_vid_pid(ctx, 0x0403, 0x6001);
    if (!h) { fprintf(stderr, "usb-urb-bed: libusb_open_device_with_vid_pid found no 0403:6001\n"); return 11; }
    int rc = libusb_claim_interface(h, 0);
    if (rc) { fprintf(stderr, "usb-urb-bed: claim: %s\n", libusb_error_name(rc)); return 12; }
    unsigned char out[40000], in[40000];
    for (size_t i = 0; i < sizeof out; i++) out[i] = (unsigned char)(i * 7 + 3);
    int n = 0, m = 0, got = 0;
    rc = libusb_bulk_transfer(h, 0x01, out, sizeof out, &n, 2000);
    if (rc) { fprintf(stderr, "usb-urb-bed: OUT: %s\n", libusb_error_name(rc)); return 13; }
    while (got < (int)sizeof in) {
        rc = libusb_bulk_transfer(h, 0x81, in + got, (int)sizeof in - got, &m, 2000);
        if (rc) { fprintf(stderr, "usb-urb-bed: IN: %s\n", libusb_error_name(rc)); return 14; }
        got += m;
    }
    if (memcmp(in, out, sizeof out)) { fprintf(stderr, "usb-urb-bed: IN bytes differ from OUT bytes\n"); return 15; }
    printf("self-test ok: libusb bulk OUT %d bytes, IN %d bytes, equal\n", n, got);
    libusb_release_interface(h, 0);
    libusb_close(h);
    libusb_exit(ctx);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usb-urb-bed: nothing to run: give --self-test or -- PROGRAM ARGS\n");
    return 2;
}

static int exit_status = 1;
static void on_child(GPid pid, gint status, gpointer loop) {
    (void)pid;
    exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    g_main_loop_quit(loop);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--self-test-child")) return self_test_child();
    const char *vid = "0403", *pid_s = "6001", *serial = "PNN0002", *serve = NULL;
    int self_test = 0, prog = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) { prog = i + 1; break; }
        else if (!strcmp(argv[i], "--self-test")) self_test = 1;
        else if (!strcmp(argv[i], "--vid") && i + 1 < argc) vid = argv[++i];
        else if (!strcmp(argv[i], "--pid") && i + 1 < argc) pid_s = argv[++i];
        else if (!strcmp(argv[i], "--serial") && i + 1 < argc) serial = argv[++i];
        else if (!strcmp(argv[i], "--serve") && i + 1 < argc) serve = argv[++i];
        else { fprintf(stderr, "usb-urb-bed: unknown argument %s\n", argv[i]); return 2; }
    }
    if (!self_test && (prog < 0 || prog >= argc)) return usage();
    if (strlen(vid) != 4 || strlen(pid_s) != 4) { fprintf(stderr, "usb-urb-bed: --vid and --pid take 4 hex digits\n"); return 2; }
    trace = getenv("BED_TRACE") != NULL;
    from_device = g_byte_array_new();
    to_device = g_byte_array_new();

    UMockdevTestbed *tb = umockdev_testbed_new();
    const char *root = "/devices/pci0000:00/0000:00:14.0/usb1";
    /* Device, configuration (one vendor interface, bulk IN 0x81 and OUT 0x01, 512 bytes). */
    char desc[160];
    snprintf(desc, sizeof desc,
             "12010002000000" "40" "%c%c%c%c" "%c%c%c%c" "0001010203" "01"  /* device, VID/PID little-endian */
             "0902200001010080" "32"                                    /* configuration 1 */
             "09040000" "02" "ff000000"                                 /* interface 0: vendor, 2 endpoints */
             "0705810200" "0200" "0705010200" "0200",                   /* bulk IN 0x81, OUT 0x01, 512 B */
             vid[2], vid[3], vid[0], vid[1], pid_s[2], pid_s[3], pid_s[0], pid_s[1]);
    char *rec = g_strdup_printf(
        "P: %s/1-1\nN: bus/usb/001/002\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DEVNAME=/dev/bus/usb/001/002\n"
        "E: BUSNUM=001\nE: DEVNUM=002\nA: idVendor=%s\nA: idProduct=%s\nA: serial=%s\nA: product=pnnlab camera\n"
        "A: busnum=1\nA: devnum=2\nA: speed=480\nA: bDeviceClass=00\nA: bNumConfigurations=1\nA: bConfigurationValue=1\n"
        "H: descriptors=%s\n\n"
        "P: %s/1-1/1-1:1.0\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\nA: bInterfaceClass=ff\nA: bInterfaceNumber=00\n"
        "A: bNumEndpoints=02\n\n",
        root, vid, pid_s, serial, desc, root);
    GError *err = NULL;
    if (!umockdev_testbed_add_from_string(tb, rec, &err)) { fprintf(stderr, "usb-urb-bed: add: %s\n", err->message); return 3; }
    UMockdevIoctlBase *handler = g_object_new(UMOCKDEV_TYPE_IOCTL_BASE, NULL);
    g_signal_connect(handler, "handle-ioctl", G_CALLBACK(on_ioctl), NULL);
    if (!umockdev_testbed_attach_ioctl(tb, "/dev/bus/usb/001/002", handler, &err)) {
        fprintf(stderr, "usb-urb-bed: attach: %s\n", err->message);
        return 3;
    }
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    pid_t server = -1;
    if (serve) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) { perror("usb-urb-bed: socketpair"); return 3; }
        server = fork();
        if (server == 0) {
            dup2(sv[1], 3);
            unsetenv("UMOCKDEV_DIR");
            unsetenv("LD_PRELOAD");
            execl("/bin/sh", "sh", "-c", serve, (char *)NULL);
            _exit(127);
        }
        close(sv[1]);
        dev_fd = sv[0];
        fcntl(dev_fd, F_SETFL, fcntl(dev_fd, F_GETFL) | O_NONBLOCK);
        g_unix_fd_add(dev_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, NULL);
    }
    pid_t child = fork();
    if (child == 0) {
        setenv("LD_PRELOAD", "libumockdev-preload.so.0", 1);
        if (self_test) execl("/proc/self/exe", argv[0], "--self-test-child", (char *)NULL);
        else execvp(argv[prog], argv + prog);
        fprintf(stderr, "usb-urb-bed: cannot run %s: %s\n", self_test ? argv[0] : argv[prog], strerror(errno));
        _exit(127);
    }
    g_child_watch_add(child, on_child, loop);
    g_main_loop_run(loop);
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    fprintf(stderr, "usb-urb-bed: exit %d; URBs submitted %lu, reaped %lu (empty reaps %lu), discarded %lu, other ioctls %lu; "
                    "bytes OUT %llu, IN %llu\n",
            exit_status, n_submit, n_reap, n_empty_reap, n_discard, n_other, bytes_out, bytes_in);
    g_object_unref(handler);
    g_object_unref(tb); /* removes the testbed's temporary directory */
    return exit_status;
}
