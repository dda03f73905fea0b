#ifndef PNNLAB_CSTARTUP_H
#define PNNLAB_CSTARTUP_H
/// 1 when standard output was closed when the process started (`pnnlab … >&-`): a constructor
/// put /dev/null (read-only) in its place before any library could open a file there.
extern int pnnlab_standard_output_was_closed;
/// The flag above, read through a function (a C global is shared mutable state to Swift 6).
int pnnlab_standard_output_closed_at_start(void);
#endif
