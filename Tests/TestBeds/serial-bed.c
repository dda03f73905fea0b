/*
 * serial-bed — a umockdev test bed with one USB-serial adapter, for pnnlab tests.
 *
 *   serial-bed [--tty ttyUSB0] [--vid 0403] [--pid 6001] [--serial PNN0001]
 *              [--product "pnnlab crossbar"] [--manufacturer pnnlab] [--bus 1] [--dev 2]
 *              [--serve "CMD ARGS"] [--echo] [--self-test] [-- PROGRAM ARGS...]
 *
 * It declares in a fresh umockdev sysfs: a USB device (bus/dev, idVendor, idProduct,
 * serial, product, manufacturer, a binary `descriptors` attribute with one vendor-class
 * interface and bulk endpoints 0x81/0x01, device node /dev/bus/usb/BBB/DDD), its
 * interface, the usb-serial port and a tty child /dev/<tty> linked with `device` links so
 * that libserialport reads VID/PID/serial back. /dev/<tty> is a pty made by umockdev; the
 * bed holds the master end.
 *
 * Modem-line ioctls: a pty has no modem lines (TIOCMGET fails with ENOTTY, which is why
 * libserialport 0.1.1 refuses ptys). The bed attaches a UMockdevIoctlBase "handle-ioctl"
 * handler to /dev/<tty> that answers TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC/TIOCGSERIAL/
 * TIOCSSERIAL itself and runs every other ioctl (TCGETS, TCSETS, TIOCEXCL, TIOCINQ...) on
 * the real pty via umockdev_ioctl_client_execute. Reads and writes are left unhandled and go
 * straight to the pty. With that, sp_open on /dev/<tty> succeeds under the preload.
 *
 * --serve CMD  runs `sh -c CMD` (outside the mock: no preload, no UMOCKDEV_DIR) with the
 *              pty master as its fd 3, e.g. --serve "pnnlab emulate crossbar --fd 3". The
 *              bed holds a raw slave fd open for its whole life, so the server never sees
 *              EIO/hang-up before or between client opens (clients flush on open).
 * --echo       a built-in echo server on the pty master (a thread).
 * --self-test  implies --echo; runs this program again under the preload, which opens the
 *              port with libserialport (sp_open), checks VID/PID/serial, exchanges bytes,
 *              and lists the USB device through libusb. Exit status 0 means all passed.
 * PROGRAM      runs with LD_PRELOAD=libumockdev-preload.so.0 and UMOCKDEV_DIR set, as
 *              umockdev-run does; the bed exits with its status (128+N if killed by N).
 *
 * Build: cc serial-bed.c $(pkg-config --cflags --libs umockdev-1.0 libserialport libusb-1.0) -lpthread */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <umockdev.h>
#include <libserialport.h>
#include <libusb.h>

static const char *opt_tty = "ttyUSB0", *opt_vid = "0403", *opt_pid = "6001", *opt_serial = "PNN0001";
static const char *opt_product = "pnnlab crossbar", *opt_manufacturer = "pnnlab", *opt_serve = NULL;
static int opt_bus = 1, opt_dev = 2, opt_echo = 0, opt_self_test = 0;
static int modem_bits = TIOCM_DTR | TIOCM_RTS | TIOCM_CTS | TIOCM_DSR | TIOCM_CAR;
static volatile int stopping = 0;
static int master_fd = -1;

static int fail(const char *msg) { fprintf(stderr, "serial-bed: %s\n", msg); return 2; }
/* ---- ioctl answering (runs on umockdev's worker thread) ---- */
static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user) {
    (void)base; (void)user;
    gulong req = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    GError *err = NULL;
    if (req == TIOCMGET || req == TIOCMSET || req == TIOCMBIS || req == TIOCMBIC) {
        UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(int), &err);
        if (!d) { g_clear_error(&err); umockdev_ioctl_client_complete(client, -1, EFAULT); return TRUE; }
        int *bits = (int *)d->data;
        if (req == TIOCMGET) *bits = modem_bits;
        else if (req == TIOCMSET) modem_bits = *bits;
        else if (req == TIOCMBIS) modem_bits |= *bits;
        else modem_bits &= ~*bits;
        g_object_unref(d);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
    }
    if (req == TIOCGSERIAL) {
        UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct serial_struct), &err);
        if (!d) { g_clear_error(&err); umockdev_ioctl_client_complete(client, -1, EFAULT); return TRUE; }
        struct serial_struct *s = (struct serial_struct *)d->data;
        memset(s, 0, sizeof *s);
        s->type = PORT_16550A;
        s->baud_base = 3000000;
        s->xmit_fifo_size = 256;
        g_object_unref(d);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
    }
    if (req == TIOCSSERIAL) { umockdev_ioctl_client_complete(client, 0, 0); return TRUE; }
    int e = 0;
    int rc = umockdev_ioctl_client_execute(client, &e, &err);
    if (err) { g_clear_error(&err); rc = -1; e = EIO; }
    umockdev_ioctl_client_complete(client, rc, rc < 0 ? e : 0);
    return TRUE;
}

/* ---- the mock devices ---- */
static int declare_devices(UMockdevTestbed *tb) {
    unsigned vid = (unsigned)strtoul(opt_vid, NULL, 16), pid = (unsigned)strtoul(opt_pid, NULL, 16);
    const char *root = "/devices/pci0000:00/0000:00:14.0/usb1";
    char hex[512];
    snprintf(hex, sizeof hex,
             "1201000200000040%02x%02x%02x%02x000101020301"
             "0902200001010080320904000002ff000000"
             "07058102400000070501024000" "00",
             vid & 0xff, vid >> 8, pid & 0xff, pid >> 8);
    char *rec = g_strdup_printf(
        "P: %s/1-1\nN: bus/usb/%03d/%03d\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DEVNAME=/dev/bus/usb/%03d/%03d\n"
        "E: BUSNUM=%03d\nE: DEVNUM=%03d\nE: ID_VENDOR_ID=%s\nE: ID_MODEL_ID=%s\nE: ID_SERIAL_SHORT=%s\n"
        "A: idVendor=%s\nA: idProduct=%s\nA: serial=%s\nA: product=%s\nA: manufacturer=%s\n"
        "A: busnum=%d\nA: devnum=%d\nA: speed=12\nA: bDeviceClass=00\nA: bNumConfigurations=1\n"
        "A: bConfigurationValue=1\nH: descriptors=%s\n\n"
        "P: %s/1-1/1-1:1.0\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\nE: DRIVER=ftdi_sio\n"
        "A: bInterfaceClass=ff\nA: bInterfaceNumber=00\nA: bNumEndpoints=02\n\n"
        "P: %s/1-1/1-1:1.0/%s\nE: SUBSYSTEM=usb-serial\nE: DRIVER=ftdi_sio\nA: port_number=0\n\n"
        "P: %s/1-1/1-1:1.0/%s/tty/%s\nN: %s\nE: SUBSYSTEM=tty\nE: DEVNAME=/dev/%s\n"
        "A: dev=188:0\nL: device=../../../%s\n\n",
        root, opt_bus, opt_dev, opt_bus, opt_dev, opt_bus, opt_dev, opt_vid, opt_pid, opt_serial,
        opt_vid, opt_pid, opt_serial, opt_product, opt_manufacturer, opt_bus, opt_dev, hex,
        root, root, opt_tty, root, opt_tty, opt_tty, opt_tty, opt_tty, opt_tty);
    GError *err = NULL;
    gboolean ok = umockdev_testbed_add_from_string(tb, rec, &err);
    g_free(rec);
    if (!ok) {
        fprintf(stderr, "serial-bed: cannot declare devices: %s\n", err ? err->message : "?");
        g_clear_error(&err);
        return -1;
    }
    return 0;
}

/* ---- built-in echo server on the pty master ---- */
static void *echo_thread(void *unused) {
    (void)unused;
    unsigned char buf[4096];
    while (!stopping) {
        struct pollfd p = {.fd = master_fd, .events = POLLIN};
        int rc = poll(&p, 1, 50);
        if (rc <= 0) continue;
        if (p.revents & POLLHUP) { usleep(10000); continue; } /* no client has the slave open */
        ssize_t n = read(master_fd, buf, sizeof buf);
        if (n <= 0) { usleep(10000); continue; }
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(master_fd, buf + off, (size_t)(n - off));
            if (w > 0) off += w; else if (errno != EAGAIN && errno != EINTR) break;
        }
    }
    return NULL;
}

/* ---- self-test child (runs under the preload) ---- */
static int self_test_child(void) {
    char path[64];
    snprintf(path, sizeof path, "/dev/%s", opt_tty);
    struct sp_port *port = NULL;
    if (sp_get_port_by_name(path, &port) != SP_OK) return fail("self-test: sp_get_port_by_name failed");
    int vid = 0, pid = 0;
    sp_get_port_usb_vid_pid(port, &vid, &pid);
    const char *sn = sp_get_port_usb_serial(port);
    if (vid != (int)strtol(opt_vid, NULL, 16) || pid != (int)strtol(opt_pid, NULL, 16) || !sn || strcmp(sn, opt_serial))
        return fail("self-test: VID/PID/serial read back wrong");
    if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
        char *m = sp_last_error_message();
        fprintf(stderr, "serial-bed: self-test: sp_open failed: %s\n", m ? m : "?");
        sp_free_error_message(m);
        return 2;
    }
    if (sp_set_baudrate(port, 115200) != SP_OK || sp_set_bits(port, 8) != SP_OK ||
        sp_set_parity(port, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(port, 1) != SP_OK ||
        sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE) != SP_OK)
        return fail("self-test: configuring the port failed");
    const char msg[] = "ping pnnlab\n";
    if (sp_blocking_write(port, msg, sizeof msg - 1, 1000) != (int)(sizeof msg - 1)) return fail("self-test: write failed");
    char got[64] = {0};
    int total = 0;
    while (total < (int)sizeof msg - 1) {
        int n = sp_blocking_read(port, got + total, sizeof msg - 1 - (size_t)total, 2000);
        if (n <= 0) return fail("self-test: no echo within 2 s");
        total += n;
    }
    if (memcmp(got, msg, sizeof msg - 1)) return fail("self-test: echo differs");
    sp_close(port);
    sp_free_port(port);

    libusb_context *ctx = NULL;
    if (libusb_init(&ctx) != 0) return fail("self-test: libusb_init failed");
    libusb_device **list = NULL;
    ssize_t cnt = libusb_get_device_list(ctx, &list);
    int found = 0;
    for (ssize_t i = 0; i < cnt; i++) {
        struct libusb_device_descriptor d;
        if (libusb_get_device_descriptor(list[i], &d) == 0 && d.idVendor == (unsigned)strtoul(opt_vid, NULL, 16) &&
            d.idProduct == (unsigned)strtoul(opt_pid, NULL, 16))
            found = 1;
    }
    if (cnt > 0) libusb_free_device_list(list, 1);
    libusb_exit(ctx);
    printf("self-test ok: sp_open %s, vid:pid %s:%s serial %s, echoed %zu bytes; libusb %s\n", path, opt_vid,
           opt_pid, opt_serial, sizeof msg - 1, found ? "lists the device" : "does NOT list the device");
    return found ? 0 : 3;
}

static pid_t spawn(char **argv, int preload, int fd3) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (fd3 >= 0) {
        if (dup2(fd3, 3) < 0) _exit(126);
        fcntl(3, F_SETFD, 0);
        unsetenv("UMOCKDEV_DIR");
    }
    if (preload) {
        const char *old = getenv("LD_PRELOAD");
        char *pre = g_strdup_printf("libumockdev-preload.so.0%s%s", old && *old ? ":" : "", old ? old : "");
        setenv("LD_PRELOAD", pre, 1);
    }
    execvp(argv[0], argv);
    fprintf(stderr, "serial-bed: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int wait_status(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name, var) if (!strcmp(a, name)) { if (!v) return fail("missing value after " name); var = v; i++; continue; }
        OPT("--tty", opt_tty) OPT("--vid", opt_vid) OPT("--pid", opt_pid) OPT("--serial", opt_serial)
        OPT("--product", opt_product) OPT("--manufacturer", opt_manufacturer) OPT("--serve", opt_serve)
        if (!strcmp(a, "--bus") && v) { opt_bus = atoi(v); i++; continue; }
        if (!strcmp(a, "--dev") && v) { opt_dev = atoi(v); i++; continue; }
        if (!strcmp(a, "--echo")) { opt_echo = 1; continue; }
        if (!strcmp(a, "--self-test")) { opt_self_test = 1; opt_echo = 1; continue; }
        if (!strcmp(a, "--self-test-child")) return self_test_child();
        if (!strcmp(a, "--")) { i++; break; }
        fprintf(stderr, "serial-bed: unknown option %s\n", a);
        return 2;
    }
    char **program = argv + i;
    int nprog = argc - i;
    if (nprog == 0 && !opt_self_test) return fail("nothing to run: give --self-test or -- PROGRAM ARGS");

    UMockdevTestbed *tb = umockdev_testbed_new();
    if (declare_devices(tb) != 0) return 2;
    char devnode[64];
    snprintf(devnode, sizeof devnode, "/dev/%s", opt_tty);
    UMockdevIoctlBase *handler = g_object_new(UMOCKDEV_TYPE_IOCTL_BASE, NULL);
    g_signal_connect(handler, "handle-ioctl", G_CALLBACK(on_ioctl), NULL);
    GError *err = NULL;
    if (!umockdev_testbed_attach_ioctl(tb, devnode, handler, &err)) {
        fprintf(stderr, "serial-bed: cannot attach ioctl handler: %s\n", err ? err->message : "?");
        return 2;
    }
    master_fd = umockdev_testbed_get_dev_fd(tb, devnode);
    if (master_fd < 0) return fail("umockdev gave no pty master for the tty");
    /* Hold a raw slave fd for the bed's lifetime, so the master never sees EIO/hang-up
     * between clients (an emulator on fd 3 can start before the program opens the port). */
    const char *slave_name = ptsname(master_fd);
    int slave_fd = slave_name ? open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    if (slave_fd >= 0) {
        struct termios t;
        if (tcgetattr(slave_fd, &t) == 0) { cfmakeraw(&t); tcsetattr(slave_fd, TCSANOW, &t); }
    }

    pthread_t echo;
    if (opt_echo) pthread_create(&echo, NULL, echo_thread, NULL);
    pid_t server = -1;
    if (opt_serve) {
        char *sh[] = {"/bin/sh", "-c", (char *)opt_serve, NULL};
        server = spawn(sh, 0, master_fd);
    }
    int status;
    if (opt_self_test) {
        char *self[] = {"/proc/self/exe", "--tty", (char *)opt_tty, "--vid", (char *)opt_vid, "--pid", (char *)opt_pid,
                        "--serial", (char *)opt_serial, "--self-test-child", NULL};
        status = wait_status(spawn(self, 1, -1));
        if (status == 0 && nprog > 0) status = wait_status(spawn(program, 1, -1));
    } else {
        status = wait_status(spawn(program, 1, -1));
    }
    stopping = 1;
    if (server > 0) {
        kill(server, SIGTERM);
        wait_status(server);
    }
    if (opt_echo) pthread_join(echo, NULL);
    if (slave_fd >= 0) close(slave_fd);
    umockdev_testbed_detach_ioctl(tb, devnode, NULL);
    g_object_unref(handler);
    g_object_unref(tb);
    return status;
}
