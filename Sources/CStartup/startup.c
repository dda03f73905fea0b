// Runs before main and before the Swift runtime or libdispatch open any descriptor: a closed
// standard stream (`>&-`) gets /dev/null (read-only) in its place, so no file pnnlab opens
// later (the run store!) can become descriptor 1 and receive its output.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "CStartup.h"

int pnnlab_standard_output_was_closed = 0;

__attribute__((constructor)) static void pnnlab_reserve_standard_streams(void) {
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int null = open("/dev/null", O_RDONLY);
            if (null >= 0 && null != fd) {
                dup2(null, fd);
                close(null);
            }
            if (fd == 1) pnnlab_standard_output_was_closed = 1;
        }
    }
}

int pnnlab_standard_output_closed_at_start(void) { return pnnlab_standard_output_was_closed; }
