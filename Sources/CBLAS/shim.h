#include <cblas.h>
#include <lapacke.h>

/* OpenBLAS's thread control (also in OpenBLAS's cblas.h; declared here so that PNNCore's
   BLASThreads policy builds against any cblas.h that links OpenBLAS). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
