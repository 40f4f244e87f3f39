/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of build/ share and nobody else sees: docker's raw word
 * splitter (parseWords in its parser), used by the parser to find
 * here-document markers and by expand.c to cut ENV, LABEL and ARG pairs. */
#pragma once

#include "containerfile.h"

G_BEGIN_DECLS

/* Splits @text at whitespace outside quotes, keeping the quotes and the
 * escapes in each word as docker's parser does (the escape character at
 * the very end is dropped). A NULL-terminated array, never NULL. */
char **hutch_build_split_raw_words (const char *text, char escape);

G_END_DECLS
