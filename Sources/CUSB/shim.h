#include <libusb.h>

/// libusb_set_option is variadic, which Swift cannot import; this wrapper takes no extra argument.
static inline int pnn_libusb_set_option_noarg(libusb_context *ctx, enum libusb_option option) {
    return libusb_set_option(ctx, option);
}
