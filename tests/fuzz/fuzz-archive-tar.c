/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* archive/tar.c, docker.c and oci.c from the top: the input is a whole
 * docker-archive or oci-archive tarball (plain, gzip or zstd), as hutch
 * load reads it: member names cleaned, links followed only inside the
 * archive, blobs hashed into a scratch store. Mutations keep the tar header
 * checksums right, as for layer-unpack. */
#include "config.h"

#include "fuzz-archive.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  hutch_fuzz_archive_setup ();
  return 0;
}

size_t
LLVMFuzzerCustomMutator (uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
  size = LLVMFuzzerMutate (data, size, max_size);
  hutch_fuzz_tar_fix_checksums (data, size);
  return size;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hutch_fuzz_archive_load (data, size);
  return 0;
}
